import CQRSSchema

/// The global log from a position on, as an `AsyncSequence`: first every event already committed
/// (catch-up), then each new one as it commits (live), in global order and without a gap.
///
/// It pulls: each `next()` serves from the last batch read, and reads the next batch only when the
/// consumer asks for it, so a slow consumer slows the reads down instead of filling memory. When
/// the log has nothing new it waits for a local commit (``Projector/wake()``) or polls every
/// `pollInterval` (commits of other processes). The iteration ends when its task is cancelled.
///
/// ```swift
/// for try await event in store.subscribe(after: checkpoint) { … }
/// ```
public struct GlobalLogSubscription: AsyncSequence, Sendable {
    public typealias Element = EventEnvelope<JSONValue>

    let store: any EventStore
    let position: Int64
    let batchSize: Int
    let pollInterval: Duration
    let wake: LogWake?

    public func makeAsyncIterator() -> Iterator {
        Iterator(subscription: self, position: position)
    }

    /// Reads batches as the consumer asks for events.
    public struct Iterator: AsyncIteratorProtocol {
        let subscription: GlobalLogSubscription
        var position: Int64
        var buffer: [EventEnvelope<JSONValue>] = []
        var index = 0

        public mutating func next() async throws -> EventEnvelope<JSONValue>? {
            while index >= buffer.count {
                if Task.isCancelled { return nil }
                let seen = subscription.wake?.generation ?? 0
                buffer = try await subscription.store.readAll(after: position, limit: subscription.batchSize)
                index = 0
                if buffer.isEmpty {
                    if let wake = subscription.wake {
                        await wake.wait(after: seen, timeout: subscription.pollInterval)
                    } else {
                        try? await Task.sleep(for: subscription.pollInterval)
                    }
                }
            }
            let event = buffer[index]
            index += 1
            position = event.globalPosition
            return event
        }
    }
}

extension EventStore {
    /// The global log after `position`, catch-up then live (see ``GlobalLogSubscription``).
    /// - Parameters:
    ///   - position: the global position to start after (0: from the beginning).
    ///   - batchSize: the most events read per query.
    ///   - pollInterval: how often an idle subscription looks for new events.
    ///   - wake: wakes the subscription on local commits (``Projector/logWake``); without
    ///     it new events are found by polling alone.
    public func subscribe(
        after position: Int64 = 0, batchSize: Int = 500, pollInterval: Duration = .milliseconds(50), wake: LogWake? = nil
    ) -> GlobalLogSubscription {
        GlobalLogSubscription(store: self, position: position, batchSize: max(1, batchSize), pollInterval: pollInterval, wake: wake)
    }
}
