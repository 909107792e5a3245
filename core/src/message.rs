//! Messages as the application sees them.

use bytes::Bytes;
use std::fmt;
use std::ops::Deref;

/// UTF-8 text backed by [`Bytes`], so a received text message is handed over without a
/// copy. Always valid UTF-8: every constructor guarantees it.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl Text {
    /// Wraps bytes the caller has already validated.
    ///
    /// Crate-private: the connection's incremental validator is the only caller.
    #[cfg_attr(not(feature = "bytes-transport"), allow(dead_code))]
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// Text from bytes, if they are valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor of `Text` guarantees valid UTF-8: `from_utf8` checks,
        // `From<String>`/`From<&str>` start from `str`, and `from_validated` is only
        // called by the connection after its incremental validator accepted the whole
        // message (and asserts it in debug builds). The bytes are immutable afterwards.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Gives up the text as bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl fmt::Debug for Text {
    /// The text, quoted; a session envelope line that carries a resume token (`ss2
    /// welcome`, `ss2 resume`) shows `<redacted>` in its place.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::session::recovery::redact_control_line(self.as_str()) {
            Some(redacted) => fmt::Debug::fmt(&redacted, f),
            None => fmt::Debug::fmt(self.as_str(), f),
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A complete WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// Payload bytes (text as UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Binary(b) => b,
        }
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A text message.
    pub fn text(s: impl Into<Text>) -> Self {
        Self::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Self::Binary(b.into())
    }
}
