//! Outbound messages sent while no transport is open.
//!
//! Bounded twice — by count and by bytes — because either alone lets a disconnected app
//! grow memory without limit (a million tiny messages, or one huge one). On overflow,
//! [`Session::send`](super::Session::send) returns [`SendError::QueueFull`] and the message
//! is *not* queued: the caller decides whether to drop, coalesce or wait. The queue is
//! flushed in order when a transport opens, and survives `Closed` (so a later `reconnect`
//! still delivers it); [`Session::take_unsent`](super::Session::take_unsent) empties it.

use super::msg::Message;
use super::output::SendError;

/// Queue limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Most messages held. Default 1 024.
    pub max_messages: usize,
    /// Most payload bytes held. Default 1 MiB.
    pub max_bytes: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_messages: 1_024,
            max_bytes: 1 << 20,
        }
    }
}

/// FIFO of messages awaiting a transport. A `Vec`, oldest first: messages are only ever
/// added at the back and taken all at once ([`take_all`](Self::take_all), then
/// [`requeue`](Self::requeue) for what could not be sent), so no ring buffer is needed.
#[derive(Debug, Default)]
pub(crate) struct OutboundQueue {
    items: Vec<Message>,
    bytes: usize,
}

impl OutboundQueue {
    /// Appends `msg`, or refuses it when a limit would be exceeded.
    pub(crate) fn push(&mut self, msg: Message, limits: &QueueLimits) -> Result<(), SendError> {
        let bytes = self.bytes.saturating_add(msg.len());
        if self.items.len() >= limits.max_messages || bytes > limits.max_bytes {
            return Err(SendError::QueueFull {
                messages: self.items.len(),
                bytes: self.bytes,
            });
        }
        self.bytes = bytes;
        self.items.push(msg);
        Ok(())
    }

    /// Puts `first` and then `rest` back at the front, before anything queued since (they
    /// were taken with [`take_all`](Self::take_all) and could not be sent after all).
    pub(crate) fn requeue(&mut self, first: Message, rest: std::vec::IntoIter<Message>) {
        let later = std::mem::take(&mut self.items);
        self.items.reserve(1 + rest.len() + later.len());
        self.items.push(first);
        self.items.extend(rest);
        self.items.extend(later);
        self.bytes = self.items.iter().fold(0, |n, m| n.saturating_add(m.len()));
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every queued message, oldest first; the queue is empty afterwards.
    pub(crate) fn take_all(&mut self) -> Vec<Message> {
        self.bytes = 0;
        std::mem::take(&mut self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_count_and_bytes_and_fifo() {
        let limits = QueueLimits {
            max_messages: 3,
            max_bytes: 10,
        };
        let mut q = OutboundQueue::default();
        q.push(Message::text("aaaa"), &limits).unwrap();
        q.push(Message::text("bbbb"), &limits).unwrap();
        assert_eq!(
            q.push(Message::text("ccc"), &limits),
            Err(SendError::QueueFull { messages: 2, bytes: 8 }),
            "bytes limit"
        );
        q.push(Message::text("cc"), &limits).unwrap();
        assert_eq!(
            q.push(Message::text(""), &limits),
            Err(SendError::QueueFull { messages: 3, bytes: 10 })
        );
        assert_eq!((q.len(), q.bytes()), (3, 10));
        let mut taken = q.take_all().into_iter();
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
        assert_eq!(taken.next(), Some(Message::text("aaaa")));
        let bbbb = taken.next().unwrap();
        q.push(Message::text("d"), &limits).unwrap();
        q.requeue(bbbb, taken);
        assert_eq!((q.len(), q.bytes()), (3, 7));
        assert_eq!(
            q.take_all(),
            vec![Message::text("bbbb"), Message::text("cc"), Message::text("d")]
        );
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
    }
}
