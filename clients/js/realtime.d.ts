// Types of realtime.js (the client for the realtime hub's native protocol).

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';
export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';

/** A channel's stream position: the offset of the last message seen, in the stream named by epoch. */
export interface Position {
  offset: number;
  epoch: string;
}

export interface Member {
  id: string;
  info: unknown;
}

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** Close code of the drop (1006, 1012, 4000, 4009, ...); 4001 for an auth failure the client saw. */
  code?: number;
  reason?: string;
  /** disconnected: milliseconds until the next attempt; null while the browser is offline. */
  delay?: number | null;
  /** closed: the HTTP status of a refused upgrade, where the transport can see it (Node). */
  status?: number;
  connectionId?: string;
  transport?: string;
  attempt?: number;
}

/** What a hub sends with a channel message. */
export interface MessageFrame {
  type: 'message';
  channel?: string;
  event?: string;
  data: unknown;
  offset?: number;
  epoch?: string;
}

export interface SubscribedInfo {
  /** Whether the subscribe asked to recover (it carried a position, or it was a resubscribe). */
  wasRecovering: boolean;
  /** true: the missed messages follow; false: refetch your state; null: a first subscribe. */
  recovered: boolean | null;
  position: Position | null;
}

export interface Whisper {
  event: string;
  data: unknown;
  from: { connection_id: string; user_id?: string };
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  id?: string | number;
}

export interface SubscribeOptions {
  onMessage?: (data: any, message: MessageFrame) => void;
  onJoin?: (member: Member) => void;
  onLeave?: (member: Member) => void;
  onMembers?: (members: Map<string, unknown>) => void;
  onWhisper?: (whisper: Whisper) => void;
  onSubscribed?: (info: SubscribedInfo) => void;
  /** A resubscribe could not recover what was missed: refetch your state. */
  onUnrecovered?: (info: SubscribedInfo) => void;
  onError?: (error: ErrorFrame) => void;
  /** Start from this position (e.g. the one a page was rendered at). */
  since?: Position;
}

export interface Transport {
  name: string;
  open(
    url: string,
    handlers: {
      open(): void;
      message(text: string): void;
      close(info: { code: number; reason: string; status?: number }): void;
    },
  ): { send(text: string): void; close(): void };
}

export interface RealtimeOptions {
  /** The hub's WebSocket URL; default ws(s)://<page host>/ws. */
  url?: string;
  /** A token, or a function giving one (or a promise of one) before every connect. Throw UnauthorizedError to stop. */
  token?: string | null | (() => string | null | undefined | Promise<string | null | undefined>);
  /** A WebSocket constructor (npm ws in Node). */
  WebSocket?: unknown;
  /** Tried in order (a name or a transport); the first that opens is kept, one that fails before opening passes the turn to the next. Default: ['websocket']. */
  transports?: Array<'websocket' | 'sse' | 'longpoll' | Transport>;
  /** An EventSource constructor for the 'sse' transport (browsers have one). */
  EventSource?: unknown;
  /** Reconnect backoff bounds in ms (full jitter): 500 and 20000. */
  minDelay?: number;
  maxDelay?: number;
  /** Silence in ms after which the client pings (25000; 0: never), and how long it waits for an answer (10000). */
  pingInterval?: number;
  pongTimeout?: number;
  /** Connect at once (true). */
  autoConnect?: boolean;
}

type Listener<T extends unknown[]> = (...args: T) => void;

interface SubscriptionEvents {
  message: [data: any, message: MessageFrame];
  join: [Member];
  leave: [Member];
  members: [Map<string, unknown>];
  whisper: [Whisper];
  subscribed: [SubscribedInfo];
  unrecovered: [SubscribedInfo];
  error: [ErrorFrame];
  state: [SubscriptionState];
  unsubscribed: [];
}

export class Subscription {
  readonly channel: string;
  readonly state: SubscriptionState;
  /** Presence channels: user id -> user info. */
  readonly members: Map<string, unknown>;
  /** History channels: the last position handed to the app. */
  readonly position: Position | null;
  readonly recovered: boolean | null;
  on<K extends keyof SubscriptionEvents>(event: K, fn: Listener<SubscriptionEvents[K]>): () => void;
  off<K extends keyof SubscriptionEvents>(event: K, fn: Listener<SubscriptionEvents[K]>): this;
  /** A client event to the channel's other subscribers (private and presence channels); false when not subscribed. */
  whisper(event: string, data?: unknown): boolean;
  unsubscribe(): void;
}

interface ClientEvents {
  state: [StateChange];
  connecting: [StateChange];
  connected: [StateChange];
  disconnected: [StateChange];
  closed: [StateChange];
  /** A message to this user or connection (Realtime\broadcastToUser, Realtime\send). */
  message: [data: any, message: MessageFrame];
  error: [ErrorFrame];
  /** The transport in use changed ('websocket', 'sse', 'longpoll'); also rt.transport. */
  transport: [name: string];
}

export class Realtime {
  constructor(options?: RealtimeOptions);
  readonly state: ConnectionState;
  readonly connectionId: string | null;
  readonly userId: string | null;
  readonly transport: string | null;
  on<K extends keyof ClientEvents>(event: K, fn: Listener<ClientEvents[K]>): () => void;
  off<K extends keyof ClientEvents>(event: K, fn: Listener<ClientEvents[K]>): this;
  connect(): void;
  close(): void;
  subscribe(channel: string, options?: SubscribeOptions): Subscription;
  subscription(channel: string): Subscription | null;
}

export class UnauthorizedError extends Error {
  readonly unauthorized: true;
}

export function webSocketTransport(options?: { WebSocket?: unknown }): Transport;
/** Server-Sent Events: an EventSource on <url>/sse; subscribe and unsubscribe as HTTP calls; no whispers. */
export function sseTransport(options?: { EventSource?: unknown }): Transport;
/** Long-polling: GET <url>/poll with fetch in a loop; the session lives between polls; subscribe calls as over SSE; no whispers. */
export function longPollTransport(): Transport;
export function backoff(attempt: number, min: number, max: number): number;
export const STATES: ConnectionState[];
export default Realtime;
