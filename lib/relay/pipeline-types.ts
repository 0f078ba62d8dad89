// The contract between the native relay pipeline (native/relay, wrapped by
// lib/relay/pipeline.ts) and the TypeScript policy layer (lib/relay/policy.ts and friends).
//
// Data path (design.md): upstream frames are received natively (io_uring driver, or JS in
// the uWS fallback which hands them over in batches with `ingest`), checked for per-
// connection seq order, validated on the native worker pool (signature with the key cache,
// CAR, commit, MST inversion) and kept in a native pending table. JS receives small
// summaries in batches and returns decisions in batches; frame bytes never cross into JS.
// Accepted events get a relay seq in the native log writer (seq patched into the upstream
// bytes), are appended to the event log, and only then are published to consumers.
//
// Ordering: summaries for one DID arrive in upstream order (validation is ordered per DID).
// Different DIDs may interleave. Decisions for one DID must be returned in the same order
// (the log writer appends in decision order).
//
// Additions (additive, by the policy layer):
// - `retry`: the re-validated event comes back in a later batch as a new summary with the
//   same `id` (and hostId/upstreamSeq); it is still pending until decided.
// - WrittenNotice: `ids` include replaced events (the id of the upstream event whose
//   SynthFrame was written); a notice with empty ids may carry only a newer durableSeq.
// - RelayPipeline.keyVersions (optional): the key cache's current version per DID, so a
//   signature failure is retried only when the key changed after the event was checked.
// - close(): resolves after the last WrittenNotice was delivered and the log is closed
//   (fsync'd), so the policy may treat every written event as durable and persist cursors.
// - stats(): a `durableSeq` entry, if present, lets cursors move on a notice-less fsync.
// - PipelineOptions / OpenPipeline: the options lib/server.ts opens the pipeline with (the
//   event-log flags), `openPipeline` exported by lib/relay/pipeline.ts.
//
// Additions (additive, by the pipeline, lib/relay/pipeline.ts):
// - EventSummary.flags: native validation flags (validate.h kFlag*) by name, e.g.
//   "no_prev_data", "legacy_ops", "inversion_skipped", "inversion_failed", "too_big", "rebase";
//   an empty array when none (a #commit without prevData has "no_prev_data" once validation
//   got that far; `prevData` is then absent).
// - RelayPipeline.connectUpstream (optional): opens a host's upstream with its frames routed
//   into the pipeline (natively on io_uring, never through JS); pass it as the HostManager's
//   connect. It also gives uWS upstreams flow control (pause/resume) and per-connection seq
//   checks. `ingest(hostId, frames)` without it treats all of a host's frames as one connection.
// - PipelineOptions: optional tuning (threads, keyCache, hostPendingLimit, log sync policy,
//   byte cap); defaults suit a relay.
// - Decision `drop` reasons are counted by JS only; native counts verdicts (stats()).

import type { Transport, Upstream, UpstreamCloseInfo, UpstreamOpenInfo, UpstreamOptions } from '../transport/types.js'

export type EventType = 'commit' | 'sync' | 'identity' | 'account' | 'info' | 'error' | 'unknown'

export interface EventSummary {
  // Handle of the pending event; native keeps the frame until JS decides.
  id: number
  hostId: number
  // Upstream seq of the frame (-1 when it has none: #info, error frames).
  upstreamSeq: number
  type: EventType
  // Account DID ('' for #info, error and unknown frames).
  did: string
  // "ok", or the reason native validation failed (stable snake_case, e.g. "no_key",
  // "bad_signature", "inversion_mismatch", "frame_too_large", "seq_out_of_order").
  verdict: string
  // Key-cache version the signature was checked with (0 when no key was used); after a
  // signature failure the policy re-resolves the identity and retries only if the version
  // moved.
  keyVersion: number
  time: string
  frameBytes: number
  // #commit / #sync
  rev?: string
  since?: string | null
  prevData?: string
  dataCid?: string
  commitCid?: string
  opCount?: number
  // #account / #identity
  active?: boolean
  status?: string
  handle?: string
  // #info / error frames from the upstream
  name?: string
  message?: string
  // Native validation flags by name (see the additions above); [] when none.
  flags?: readonly string[]
}

// Frames the relay writes itself (re-emitted #account with the combined status, takedowns,
// #identity after a handle change); encoded natively.
export type SynthFrame =
  | { type: 'account'; did: string; active: boolean; status?: string; time: string }
  | { type: 'identity'; did: string; handle?: string; time: string }

export type Decision =
  // Sequence, log and broadcast the upstream frame as received (only seq is patched).
  | { id: number; action: 'accept' }
  // Release the frame. `reason` is counted in relay_events_dropped_total{reason}.
  | { id: number; action: 'drop'; reason: string }
  // Validate again (the key cache was updated for its DID).
  | { id: number; action: 'retry' }
  // Release the upstream frame and emit a relay-built frame in its place.
  | { id: number; action: 'replace'; frame: SynthFrame }
  // Emit a relay-built frame not tied to an upstream event (admin takedown, etc.).
  | { action: 'emit'; frame: SynthFrame }

// Log write completions, in relay seq order: these events are now in the event log (and
// were published to consumers). Upstream cursors may advance over them.
export interface WrittenNotice {
  ids: number[]
  seqs: number[]
  // Highest relay seq on stable storage (fsync'd).
  durableSeq: number
}

export interface PipelineBatch {
  events: EventSummary[]
  written: WrittenNotice | null
}

// Signing keys as the identity layer resolved them (native parses the multibase).
export interface KeyEntry {
  did: string
  // Multibase public key and its verification-method type ("Multikey" or a legacy type);
  // null records "resolved, but no usable key" so validation reports key_unusable.
  key: { multibase: string; type: string } | null
}

// What lib/relay/pipeline.ts offers the policy layer. Implemented over the native pipeline
// for both transports.
export interface RelayPipeline {
  // Summaries and log-write notices arrive through this callback, in batches.
  onBatch(handler: (batch: PipelineBatch) => void): void
  // Decisions for pending events (and relay-built frames), in one crossing.
  decide(decisions: Decision[]): void
  // Frames received by JS (the uWS fallback transport); the io_uring transport routes
  // upstream frames natively instead. hostId is the relay's host row id.
  ingest(hostId: number, frames: Buffer[]): void
  // Per-host flow control: how many events of a host are pending (undecided or unwritten);
  // native pauses reading that upstream when it passes the configured bound.
  pendingForHost(hostId: number): number
  setKeys(entries: KeyEntry[]): void
  deleteKeys(dids: string[]): void
  // Current key-cache version per DID (0 when the DID has no entry); compared with
  // EventSummary.keyVersion after a signature failure.
  keyVersions?(dids: string[]): number[]
  // Removes the account's frames from replay (event log takedown).
  takedown(did: string): void
  stats(): Record<string, number>
  close(): Promise<void>
  // Opens `hostId`'s upstream on the pipeline's transport with its frames routed into the
  // pipeline (same shape as lib/relay/hosts.ts UpstreamConnect).
  connectUpstream?(
    opts: UpstreamOptions,
    hostId: number,
    handlers: { onOpen: (info: UpstreamOpenInfo) => void; onClose: (info: UpstreamCloseInfo) => void },
  ): Upstream
}

// lib/relay/pipeline.ts exports `openPipeline: OpenPipeline`: the pipeline opened with the
// event-log options from the command line, before the transport listens.
export interface PipelineOptions {
  transport: Transport
  // The event log lives in <dataDir>/events.
  dataDir: string
  // --lenient-sync-validation: native validation in lenient mode.
  lenient: boolean
  // --replay-window, in ms.
  replayWindowMs: number
  // --initial-seq-number: the log's first seq when it is new (or below it).
  initialSeq: number
  // Optional tuning (defaults suit a relay).
  threads?: number
  hostPendingLimit?: number
  maxDiskBytes?: number
  syncIntervalMs?: number
  syncBytes?: number
}

export type OpenPipeline = (opts: PipelineOptions) => RelayPipeline | Promise<RelayPipeline>

