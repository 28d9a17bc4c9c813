// Subprotocol names and negotiation for the Kubernetes streaming protocols.

/** remotecommand over SPDY, preferred first (X-Stream-Protocol-Version). */
export const REMOTE_COMMAND_SPDY_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;

export const PORT_FORWARD_SPDY_PROTOCOLS = ['portforward.k8s.io'] as const;

/** How a remotecommand protocol version behaves, for both transports. */
export interface RemoteCommandVersion {
  /** Error stream carries a metav1.Status JSON (v4+) rather than plain text. */
  statusJson: boolean;
  /** Terminal resizing exists (v3+). */
  resize: boolean;
}

export function remoteCommandVersion(protocol: string): RemoteCommandVersion {
  const version = /^v(\d+)\./.exec(protocol)?.[1];
  const n = version === undefined ? 1 : Number(version);
  return { statusJson: n >= 4, resize: n >= 3 };
}

/** A WebSocket channel subprotocol: channel byte framing, raw binary or base64 text. */
export interface ChannelProtocol {
  name: string;
  base64: boolean;
  /** v5: a [255, channel] message half-closes that channel. */
  closeSignal: boolean;
  statusJson: boolean;
}

const channelProtocol = (name: string, base64: boolean, version: number): ChannelProtocol => ({
  name,
  base64,
  closeSignal: version >= 5,
  statusJson: version >= 4,
});

export const REMOTE_COMMAND_WS_PROTOCOLS: readonly ChannelProtocol[] = [
  channelProtocol('v5.channel.k8s.io', false, 5),
  channelProtocol('v4.channel.k8s.io', false, 4),
  channelProtocol('v4.base64.channel.k8s.io', true, 4),
  channelProtocol('channel.k8s.io', false, 1),
  channelProtocol('base64.channel.k8s.io', true, 1),
];

export const PORT_FORWARD_WS_PROTOCOLS: readonly ChannelProtocol[] = [
  channelProtocol('v4.channel.k8s.io', false, 4),
  channelProtocol('v4.base64.channel.k8s.io', true, 4),
];

/** Used when a WebSocket client asks for no subprotocol at all (kubelet's "" entry). */
export const DEFAULT_CHANNEL_PROTOCOL: ChannelProtocol = channelProtocol('', false, 1);

/** Splits repeated and comma-separated header values into protocol names. */
export function headerProtocols(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => v.split(','))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** The first protocol of the client's list (its preference order) that the server supports. */
export function negotiate(client: readonly string[], server: readonly string[]): string | undefined {
  return client.find((p) => server.includes(p));
}
