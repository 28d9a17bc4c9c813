// crid's events endpoint: the ttrpc socket given to v2 shims as TTRPC_ADDRESS (and dialled by
// `crid publish` for the legacy shim). Forward answers at once; a slow reply stalls the shim (§3.3).
import type { Logger } from '../log.ts';
import { decodeMessage } from '../ttrpc/codec.ts';
import { TtrpcServer } from '../ttrpc/server.ts';
import type { ExitMonitor } from './exit-monitor.ts';
import { taskEventFromEnvelope, type Envelope } from './task-events.ts';

export const EVENTS_SERVICE = 'containerd.services.events.ttrpc.v1.Events';
export const FORWARD_REQUEST = 'containerd.services.events.ttrpc.v1.ForwardRequest';

export class EventServer {
  private readonly server: TtrpcServer;
  private readonly monitor: ExitMonitor;
  private readonly log: Logger;

  constructor(monitor: ExitMonitor, log: Logger) {
    this.monitor = monitor;
    this.log = log;
    this.server = new TtrpcServer(log);
    this.server.register(EVENTS_SERVICE, 'Forward', async (payload) => {
      this.forward(payload);
      return Buffer.alloc(0);
    });
  }

  listen(socketPath: string): Promise<void> {
    return this.server.listen(socketPath);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private forward(payload: Buffer): void {
    const envelope = decodeMessage<{ envelope: Envelope | null }>(FORWARD_REQUEST, payload).envelope;
    if (!envelope) return;
    const event = taskEventFromEnvelope(envelope);
    if (!event) {
      this.log.debug({ topic: envelope.topic }, 'ignoring shim event');
      return;
    }
    // Delivered after the reply is written, so listeners never delay the shim.
    setImmediate(() => this.monitor.emit(event));
  }
}
