// The contract between the gRPC server and the CRI logic: a handler takes the decoded request and a
// context, returns the response or throws a typed error from src/errors.ts. RPC functions never see gRPC.
import type { Logger } from '../log.ts';

export interface RpcContext {
  /** Child logger carrying `rpc` (and podId / containerId once the handler adds them). */
  log: Logger;
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
}

/** Without type arguments: any handler, whatever its messages (the type of a table of them). */
export type UnaryHandler<Req = never, Res = unknown> = (req: Req, ctx: RpcContext) => Promise<Res>;

/** Server-streaming handler (GetContainerEvents): write each message, resolve when done. */
export type StreamHandler<Req = never, Res = unknown> = (
  req: Req,
  write: (message: Res) => void,
  ctx: RpcContext,
) => Promise<void>;

/** The functions of one CRI service by RPC name as in api.proto (`PullImage`, `RunPodSandbox`, …). */
export type RpcTable = Record<string, UnaryHandler | StreamHandler>;
