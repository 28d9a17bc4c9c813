// The runtime options Any a v2 shim gets on `start`'s stdin and in CreateTaskRequest.options.
// Which message and fields a handler's `options` table becomes is the config's knowledge
// (src/config/options.ts); this only packs it. 1.6 shims resolve bare proto names only, and the
// type URLs there are exactly those names.
import { packAny, type AnyMessage } from '../ttrpc/codec.ts';
import type { RuntimeHandler } from '../config/model.ts';
import { shimOptions } from '../config/options.ts';

/** undefined when the handler has no options table (the shim then uses its defaults). */
export function runtimeOptionsAny(handler: RuntimeHandler): AnyMessage | undefined {
  const options = shimOptions(handler);
  return options && packAny(options.typeUrl, options.typeUrl, options.fields);
}
