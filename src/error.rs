//! camd's error type: a kind to match on, what it is about (a camera, an element, a command),
//! a message, and the error underneath. Callers decide by `kind()` (and a ring error's
//! own kind through `ring_kind()`), never by the text; the text is for people.
//!
//! Display: `camera door: cannot link h264parse ! avdec_h264: ...` (subject, message, source).

use std::fmt;

/// What kind of thing went wrong, for callers that act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A command line that does not parse, or asks for something that does not exist.
    Usage,
    /// A config value or file that camd cannot use.
    Config,
    /// A file, directory or pipe that cannot be read, written or created.
    Io,
    /// A ring file (the `camd_ring::RingError` is the source: see `ring_kind`).
    Ring,
    /// A GStreamer element that is not installed, cannot be made, or cannot be linked.
    Element,
    /// GStreamer itself, or a pipeline that cannot be built or started.
    Pipeline,
    /// A V4L2 device that cannot be used as asked.
    Device,
    /// An order between the supervisor and a worker that cannot be read or sent.
    Protocol,
    /// A process, signal or system call.
    System,
}

/// What an error is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Camera(String),
    Element(String),
    Command(&'static str),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Camera(name) => write!(f, "camera {name}"),
            Self::Element(name) => write!(f, "GStreamer element {name:?}"),
            Self::Command(command) => f.write_str(command),
        }
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug)]
pub struct Error {
    kind: Kind,
    subject: Option<Subject>,
    message: String,
    source: Option<Source>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            subject: None,
            message: message.into(),
            source: None,
        }
    }

    /// A ring library error, kept whole: `ring_kind()` matches on its kind.
    pub fn ring(source: camd_ring::RingError) -> Self {
        Self {
            kind: Kind::Ring,
            subject: None,
            message: String::new(),
            source: Some(Box::new(source)),
        }
    }

    /// What the error is about. The first subject set is kept: the innermost is the most
    /// precise (the element, rather than the camera whose pipeline it is in).
    pub fn about(mut self, subject: Subject) -> Self {
        if self.subject.is_none() {
            self.subject = Some(subject);
        }
        self
    }

    pub fn camera(self, name: &str) -> Self {
        self.about(Subject::Camera(name.to_owned()))
    }

    pub fn element(self, name: &str) -> Self {
        self.about(Subject::Element(name.to_owned()))
    }

    pub fn because(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The ring library's own kind, for a `Kind::Ring` error.
    pub fn ring_kind(&self) -> Option<&camd_ring::ErrorKind> {
        self.source
            .as_ref()?
            .downcast_ref::<camd_ring::RingError>()
            .map(|e| &e.kind)
    }

    /// The message and the source, without the subject.
    fn without_subject(&self) -> String {
        let mut text = self.message.clone();
        if let Some(source) = &self.source {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&source.to_string());
        }
        text
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(subject) = &self.subject {
            write!(f, "{subject}: ")?;
        }
        f.write_str(&self.without_subject())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Equal when kind, subject and text are: two errors that say the same thing the same way.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.subject == other.subject
            && self.without_subject() == other.without_subject()
    }
}

impl From<camd_ring::RingError> for Error {
    fn from(e: camd_ring::RingError) -> Self {
        Self::ring(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_subject_message_source() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = Error::new(Kind::Io, "cannot create the directory")
            .element("filesrc")
            .camera("door")
            .because(io);
        assert_eq!(
            e.to_string(),
            "GStreamer element \"filesrc\": cannot create the directory: gone"
        );
        assert_eq!(e.kind(), Kind::Io);
        let e = Error::new(Kind::Element, "is not installed").element("avdec_h264");
        assert_eq!(
            e.to_string(),
            "GStreamer element \"avdec_h264\": is not installed"
        );
        assert_eq!(e.without_subject(), "is not installed");
    }

    #[test]
    fn a_ring_error_keeps_its_kind() {
        let dir = std::env::temp_dir().join(format!("camd-error-{}", std::process::id()));
        let Err(ring) = camd_ring::Reader::open(dir.join("none.ring")) else {
            panic!("no such ring, yet it opened");
        };
        let e = Error::from(ring).camera("none");
        assert_eq!(e.kind(), Kind::Ring);
        assert!(matches!(
            e.ring_kind(),
            Some(camd_ring::ErrorKind::Io { .. })
        ));
        assert!(e.to_string().starts_with("camera none: ring file "), "{e}");
    }
}
