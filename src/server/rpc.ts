// The contract between the gRPC server and the CRI logic: a handler takes the decoded request and a
// context, returns the response or throws a typed error from src/errors.ts. Handlers never see gRPC.
import type { Logger } from '../log.ts';

export interface RpcContext {
  /** Child logger carrying `rpc` (and podId / containerId once the handler adds them). */
  log: Logger;
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
}

export type UnaryHandler<Req = any, Res = any> = (req: Req, ctx: RpcContext) => Promise<Res>;

/** Server-streaming handler (GetContainerEvents): write each message, resolve when done. */
export type StreamHandler<Req = any, Res = any> = (
  req: Req,
  write: (message: Res) => void,
  ctx: RpcContext,
) => Promise<void>;

/** Handlers of one CRI service by RPC name as in api.proto (`PullImage`, `RunPodSandbox`, …). */
export type HandlerTable = Record<string, UnaryHandler | StreamHandler>;
