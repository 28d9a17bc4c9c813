// node:http and node:https as their CommonJS objects. An ESM import of either makes Node read every
// export to build the module's facade, and node:http's WebSocket and MessageEvent getters then load
// Node's bundled undici: about 50 ms of every start, for classes crid never uses.
import type * as Http from 'node:http';
import type * as Https from 'node:https';

export const http: typeof Http = process.getBuiltinModule('node:http');
export const https: typeof Https = process.getBuiltinModule('node:https');
