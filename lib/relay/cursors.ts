// Upstream cursors as a low-water mark (design.md "State"; indigo-relay.md §1.2 step 4): a
// host's cursor may only move up to the highest upstream seq S such that every event of that
// host at or below S is durable in the event log or was deliberately dropped. Events finish
// out of order (held accounts, different DIDs validated in parallel, group fsync), so each
// host keeps its unfinished events in arrival order and the cursor follows the finished prefix.
//
// An accepted event finishes in two steps: a WrittenNotice gives it a relay seq, and it counts
// only once durableSeq reaches that seq (a crash must not lose an event whose upstream cursor
// was already saved). Notices arrive in relay seq order, so the written-not-yet-durable events
// form a queue sorted by relay seq.
import type { WrittenNotice } from './pipeline-types.js'

interface Entry {
  seq: number
  done: boolean
  track: HostTrack
}

// One host's unfinished events in arrival order; `head` skips the finished prefix so popping
// is O(1) (the array is compacted now and then).
class HostTrack {
  entries: Entry[] = []
  head = 0
  // Highest upstream seq with everything at or below it finished (-1: none yet).
  finishedSeq = -1
  // Highest upstream seq received; a reconnect resumes after it (it will all be finished).
  receivedSeq = -1

  advance(): void {
    while (this.head < this.entries.length && (this.entries[this.head] as Entry).done) {
      // Never backwards: after a reconnect an upstream can repeat seqs it already sent.
      this.finishedSeq = Math.max(this.finishedSeq, (this.entries[this.head] as Entry).seq)
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }

  get unfinished(): number {
    return this.entries.length - this.head
  }
}

export class CursorTracker {
  private readonly hosts = new Map<number, HostTrack>()
  private readonly byId = new Map<number, Entry>()
  // Written, not yet durable, in relay seq order.
  private unsynced: { relaySeq: number; entry: Entry }[] = []
  private unsyncedHead = 0
  private durableSeq = 0

  // Called when a host's track gets its first event (its first cursor can be written now).
  onFirstEvent: ((hostId: number) => void) | undefined

  // A new event from a host (not a retried one: those keep their entry).
  received(id: number, hostId: number, upstreamSeq: number): void {
    if (upstreamSeq <= 0 || this.byId.has(id)) return
    const track = this.track(hostId)
    if (track.receivedSeq === -1) {
      // The first event of a run (or after a reset): nothing below it was received on this
      // track, so a restart may resume right below it. Without this floor a host that started
      // live would have no cursor until an event finished, and a crash before that would
      // resume it live, losing what came meanwhile.
      track.finishedSeq = Math.max(track.finishedSeq, upstreamSeq - 1)
      this.onFirstEvent?.(hostId)
    }
    const entry: Entry = { seq: upstreamSeq, done: false, track }
    track.entries.push(entry)
    if (upstreamSeq > track.receivedSeq) track.receivedSeq = upstreamSeq
    this.byId.set(id, entry)
  }

  // Dropped: nothing will be written for it, so it no longer holds the cursor back.
  dropped(id: number): void {
    const entry = this.byId.get(id)
    if (entry === undefined) return
    this.byId.delete(id)
    this.finish(entry)
  }

  written(notice: WrittenNotice): void {
    if (notice.durableSeq > this.durableSeq) this.durableSeq = notice.durableSeq
    for (let i = 0; i < notice.ids.length; i++) {
      const entry = this.byId.get(notice.ids[i] as number)
      if (entry === undefined) continue
      this.byId.delete(notice.ids[i] as number)
      const relaySeq = notice.seqs[i] as number
      if (relaySeq <= this.durableSeq) this.finish(entry)
      else this.unsynced.push({ relaySeq, entry })
    }
    this.syncedUpTo(this.durableSeq)
  }

  // durableSeq moved without a notice (read from the pipeline's stats at flush time).
  syncedUpTo(durableSeq: number): void {
    if (durableSeq > this.durableSeq) this.durableSeq = durableSeq
    while (this.unsyncedHead < this.unsynced.length && (this.unsynced[this.unsyncedHead] as { relaySeq: number }).relaySeq <= this.durableSeq) {
      this.finish((this.unsynced[this.unsyncedHead] as { entry: Entry }).entry)
      this.unsyncedHead++
    }
    if (this.unsyncedHead > 1024 && this.unsyncedHead * 2 > this.unsynced.length) {
      this.unsynced = this.unsynced.slice(this.unsyncedHead)
      this.unsyncedHead = 0
    }
  }

  // The cursor that may be persisted for the host (-1: nothing finished since the reset).
  finishedSeq(hostId: number): number {
    return this.hosts.get(hostId)?.finishedSeq ?? -1
  }

  receivedSeq(hostId: number): number {
    return this.hosts.get(hostId)?.receivedSeq ?? -1
  }

  unfinished(hostId: number): number {
    return this.hosts.get(hostId)?.unfinished ?? 0
  }

  // The upstream's sequence restarted (FutureCursor): events still in flight from before can no
  // longer move this host's cursor; the new track starts empty.
  reset(hostId: number): void {
    this.hosts.set(hostId, new HostTrack())
  }

  hostIds(): number[] {
    return [...this.hosts.keys()]
  }

  private track(hostId: number): HostTrack {
    let t = this.hosts.get(hostId)
    if (t === undefined) {
      t = new HostTrack()
      this.hosts.set(hostId, t)
    }
    return t
  }

  private finish(entry: Entry): void {
    entry.done = true
    entry.track.advance()
  }
}
