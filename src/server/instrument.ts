// One wrapper around every RPC handler: metadata size limit, readiness gate, a child logger with
// the request's ids, cancellation, timing, and the error mapping of status.ts.
import type { Metadata, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from '../log.ts';
import { resourceExhausted, unavailable } from '../errors.ts';
import { MAX_METADATA_BYTES, OVERSIZED_METADATA_HEADER } from './authority-rewrite.ts';
import type { RpcContext, StreamHandler, UnaryHandler } from './rpc.ts';
import { toServiceError } from './status.ts';

/** Called once per finished unary call with its gRPC status code and the runtime handler label. */
export type RpcObserver = (rpc: string, code: number, seconds: number, handler: string) => void;

export interface InstrumentOptions {
  log: Logger;
  /** How far crid's start has come; a call it cannot answer yet gets Unavailable. */
  stage: () => ServingStage;
  observe?: RpcObserver;
  /** The runtime handler a request concerns, read before the call (RemovePodSandbox forgets it). */
  handlerOf?: (rpc: string, request: object | null) => string;
}

/** The part of a grpc-js unary call the wrapper uses. */
interface UnaryCall<Req> {
  request: Req;
  metadata: Metadata;
  cancelled: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** Ids worth a log field, when the request carries them. */
function requestFields(req: object | null | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!req) return fields;
  if ('pod_sandbox_id' in req && typeof req.pod_sandbox_id === 'string' && req.pod_sandbox_id)
    fields.podId = req.pod_sandbox_id;
  if ('container_id' in req && typeof req.container_id === 'string' && req.container_id)
    fields.containerId = req.container_id;
  return fields;
}

interface CallContext {
  ctx: RpcContext;
  /** The call has been answered: its stream closing later is not a cancellation. */
  settle(): void;
}

function contextFor(
  call: { cancelled: boolean; on(e: 'cancelled', f: () => void): unknown },
  log: Logger,
): CallContext {
  const controller = new AbortController();
  let settled = false;
  if (call.cancelled) controller.abort();
  // grpc-js reports every call as cancelled once its stream has closed, answered or not; an abort
  // (and the DOMException it makes) is only for one still running.
  call.on('cancelled', () => {
    if (!settled) controller.abort();
  });
  return { ctx: { log, signal: controller.signal }, settle: () => (settled = true) };
}

/** Refuses a call whose metadata the connection's rewriter took out for being over the limit. */
function checkMetadataSize(metadata: Metadata): void {
  const [size] = metadata.get(OVERSIZED_METADATA_HEADER);
  if (size !== undefined)
    throw resourceExhausted(
      `request metadata of ${String(size)} bytes exceeds crid's limit of ${MAX_METADATA_BYTES} bytes`,
    );
}

/**
 * Calls answered while recovery runs: Version names the runtime and its API and reads no state, and
 * kubelet asks it first to learn the runtime is there. Status and everything else wait for recovery.
 */
/**
 * `records`: the stores are loaded, so lists and statuses can answer from them while the shims are
 * reached again (a container that exited while crid was down shows its exit a moment later, as after
 * any relist); `ready`: recovery is done and every call is served.
 */
export type ServingStage = 'starting' | 'records' | 'ready';

const SERVED_FROM_RECORDS = new Set([
  'ListPodSandbox',
  'PodSandboxStatus',
  'ListContainers',
  'ContainerStatus',
  'ListImages',
  'ImageStatus',
  'ImageFsInfo',
]);

function servable(rpc: string, stage: ServingStage): boolean {
  return stage === 'ready' || rpc === 'Version' || (stage === 'records' && SERVED_FROM_RECORDS.has(rpc));
}

export function instrumentUnary<Req extends object, Res>(
  rpc: string,
  handler: UnaryHandler<Req, Res>,
  opts: InstrumentOptions,
) {
  return (call: UnaryCall<Req>, callback: sendUnaryData<Res>) => {
    const started = process.hrtime.bigint();
    const log = opts.log.child({ rpc, ...requestFields(call.request) });
    const runtimeHandler = opts.observe && opts.handlerOf ? opts.handlerOf(rpc, call.request) : '';
    const finish = (code: number) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      opts.observe?.(rpc, code, seconds, runtimeHandler);
      return seconds;
    };
    const context = contextFor(call, log);
    const run = async () => {
      checkMetadataSize(call.metadata);
      if (!servable(rpc, opts.stage())) throw unavailable(`crid is recovering its state; retry ${rpc} shortly`);
      return handler(call.request, context.ctx);
    };
    run().then(
      (response) => {
        context.settle();
        log.debug({ seconds: finish(0) }, 'rpc done');
        callback(null, response);
      },
      (err: unknown) => {
        context.settle();
        const serviceError = toServiceError(err);
        const seconds = finish(serviceError.code ?? 2);
        log.warn({ err, code: serviceError.code, seconds }, 'rpc failed');
        callback(serviceError);
      },
    );
  };
}

export function instrumentStream<Req extends object, Res>(
  rpc: string,
  handler: StreamHandler<Req, Res>,
  opts: InstrumentOptions,
) {
  return (call: ServerWritableStream<Req, Res>) => {
    const log = opts.log.child({ rpc });
    const context = contextFor(call, log);
    const run = async () => {
      checkMetadataSize(call.metadata);
      if (opts.stage() !== 'ready') throw unavailable(`crid is recovering its state; retry ${rpc} shortly`);
      await handler(call.request, (message) => call.write(message), context.ctx);
    };
    run().then(
      () => {
        context.settle();
        call.end();
      },
      (err: unknown) => {
        context.settle();
        log.warn({ err }, 'stream failed');
        // grpc-js sends an 'error' event's status as the call's trailers; destroy() would send none.
        call.emit('error', toServiceError(err));
      },
    );
  };
}
