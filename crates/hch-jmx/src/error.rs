//! The crate's error type: every variant carries the numbers involved and says what to do.

/// Why a JMX exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the message does; the driver reads more and tries again.
    #[error("message truncated at byte {offset}: at least {needed} more bytes needed")]
    Incomplete {
        /// Where the data ran out.
        offset: usize,
        /// How many more bytes are needed at least.
        needed: usize,
    },
    /// The bytes are not the Java serialization or JRMP message they claim to be.
    #[error("malformed reply at byte {offset}: {what}")]
    Malformed {
        /// Offset of the offending byte in the message.
        offset: usize,
        /// What was expected and what was found.
        what: String,
    },
    /// A reply nests deeper or holds more objects than a JMX reply ever does.
    #[error("reply at byte {offset} exceeds the limit of {limit} {what}; the server is not a JMX agent or is hostile")]
    Limit {
        /// Where the limit was hit.
        offset: usize,
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The server announced a length (of a string, array, block or host name) above what a JMX
    /// agent ever sends; refused before waiting for the bytes or allocating for them.
    #[error("reply at byte {offset} announces {claimed} {what}, above the limit of {limit}; the server is not a JMX agent or is hostile")]
    TooLong {
        /// Where the length was read.
        offset: usize,
        /// What the length counts.
        what: &'static str,
        /// The length announced.
        claimed: u64,
        /// The largest accepted.
        limit: u64,
    },
    /// An exchange (connect, a handshake, or one call with its whole reply) did not finish
    /// within its deadline, however the server spread its bytes.
    #[error("{endpoint}: {doing} did not finish within the {} deadline ({got} bytes received); the server is too slow or hostile (raise --timeout if it is only slow)", crate::deadline::show(*.deadline))]
    Timeout {
        /// host:port.
        endpoint: String,
        /// What was being done, e.g. `the JRMP handshake`.
        doing: String,
        /// The exchange's whole budget.
        deadline: std::time::Duration,
        /// Bytes of the answer received before the deadline.
        got: usize,
    },
    /// The reply decoded fine but is not the kind of value the call returns.
    #[error("unexpected reply to {call}: expected {expected}, got {got}")]
    UnexpectedValue {
        /// The call made.
        call: String,
        /// What it should return.
        expected: &'static str,
        /// What came back.
        got: String,
    },
    /// The JMX agent refused the credentials (or wanted some).
    #[error("{endpoint} refused the login: {message}; {hint}")]
    Auth {
        /// host:port.
        endpoint: String,
        /// The server's message.
        message: String,
        /// What to do.
        hint: &'static str,
    },
    /// The user's role may not run this operation (a `readonly` entry in the access file).
    #[error("{endpoint} denied `{operation}`: {message}; the JMX user needs `readwrite` access in the JVM's jmxremote.access file")]
    AccessDenied {
        /// host:port.
        endpoint: String,
        /// The MBean operation.
        operation: String,
        /// The server's message.
        message: String,
    },
    /// The JVM no longer knows the connection (`NoSuchObjectException`).
    #[error("{endpoint} dropped the JMX connection (idle past the agent's timeout, or the JVM restarted): connect again")]
    Dropped {
        /// host:port.
        endpoint: String,
    },
    /// The server threw: the exception's class, message and causes.
    #[error("{0}")]
    Remote(RemoteException),
    /// The port does not speak JRMP (or speaks TLS where plain was expected, and the reverse).
    #[error("{endpoint} does not speak JRMP: {hint}")]
    NotJrmp {
        /// host:port.
        endpoint: String,
        /// What was seen and what to do.
        hint: String,
    },
    /// TLS setup or handshake failed.
    #[error("TLS to {endpoint}: {reason}")]
    Tls {
        /// host:port.
        endpoint: String,
        /// Cause and fix.
        reason: String,
    },
    /// The caller cancelled (Ctrl-C); whatever was started on the target was cleaned up.
    #[error("cancelled; the recording was closed on the target")]
    Cancelled,
    /// A socket error with context.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A Java exception thrown by the server, decoded generically from its serialized form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteException {
    /// Outermost first: (class name, detail message) of the exception and its causes.
    pub chain: Vec<(String, Option<String>)>,
}

impl RemoteException {
    /// Whether any exception in the chain is of this class.
    pub fn has(&self, class: &str) -> bool {
        self.chain.iter().any(|(c, _)| c == class)
    }

    /// Whether any message in the chain contains this text.
    pub fn mentions(&self, text: &str) -> bool {
        self.chain
            .iter()
            .any(|(_, m)| m.as_deref().is_some_and(|m| m.contains(text)))
    }

    /// The innermost message, usually the most specific one.
    pub fn root_message(&self) -> Option<&str> {
        self.chain.iter().rev().find_map(|(_, m)| m.as_deref())
    }
}

impl std::fmt::Display for RemoteException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (class, msg)) in self.chain.iter().enumerate() {
            if i > 0 {
                f.write_str("; caused by ")?;
            }
            match msg {
                Some(m) => write!(f, "{class}: {m}")?,
                None => f.write_str(class)?,
            }
        }
        Ok(())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
