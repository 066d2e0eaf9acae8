//! The attach protocol as bytes: request encoders and the reply decoder, with no I/O.
//!
//! Protocol 1 (every HotSpot): `1\0<cmd>\0<arg0>\0<arg1>\0<arg2>\0`, always three arguments, each
//! at most 1024 bytes; a longer one makes the JVM drop the connection without a word. Protocol 2
//! (JDK 24+): `2\0<size>\0<cmd>[ opt=val,…]\0(<arg>\0)*`, where `size` counts every byte after the
//! size field. The reply is a decimal result code, a newline, then the output until EOF.

use std::borrow::Cow;

/// The longest argument protocol 1 accepts (`arg_length_max` in HotSpot's attachListener.hpp).
pub const V1_MAX_ARG: usize = 1024;
/// The longest operation name (`name_length_max`).
pub const MAX_COMMAND: usize = 16;
/// The largest protocol 2 request body the JVM accepts (256 KiB).
pub const V2_MAX_BODY: usize = 256 * 1024;
/// The result code of a request in a protocol version the JVM does not speak.
pub const CODE_BAD_VERSION: i32 = 101;

/// Why a request could not be encoded. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An argument is longer than protocol 1 allows (the JVM would hang up without a reply).
    #[error("argument {index} is {len} bytes; protocol 1 allows at most {max} (JDK 24+ takes longer ones)")]
    ArgTooLong {
        /// Which argument (0-based).
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Protocol 1 takes at most three arguments.
    #[error("protocol 1 takes at most 3 arguments, got {count}")]
    TooManyArgs {
        /// How many were given.
        count: usize,
    },
    /// The operation name is empty or longer than the JVM reads.
    #[error("operation name `{command}` is {len} bytes; it must be 1 to {max}")]
    BadCommand {
        /// The name.
        command: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A NUL byte would end a field early.
    #[error("field {index} holds a NUL byte at offset {offset}")]
    Nul {
        /// The field (0 = operation, then the arguments).
        index: usize,
        /// Byte offset of the NUL in that field.
        offset: usize,
    },
    /// The protocol 2 body is larger than the JVM accepts.
    #[error("request is {len} bytes; protocol 2 allows at most {max}")]
    TooLarge {
        /// Body size.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Why a reply could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The JVM closed the connection without a byte (it does so for an over-long argument).
    #[error("the JVM closed the connection without a reply")]
    Empty,
    /// The first line is not a decimal result code.
    #[error("reply does not start with a result code: {start:?}")]
    BadCode {
        /// The first bytes of the reply, lossily decoded.
        start: String,
    },
}

/// Checks the operation name and that no field holds a NUL.
fn check_fields(command: &str, args: &[&str]) -> Result<(), EncodeError> {
    if command.is_empty() || command.len() > MAX_COMMAND {
        let (command, len, max) = (command.to_string(), command.len(), MAX_COMMAND);
        return Err(EncodeError::BadCommand { command, len, max });
    }
    for (index, field) in std::iter::once(command)
        .chain(args.iter().copied())
        .enumerate()
    {
        if let Some(offset) = field.bytes().position(|b| b == 0) {
            return Err(EncodeError::Nul { index, offset });
        }
    }
    Ok(())
}

/// Appends a field and its terminating NUL.
fn push_field(out: &mut Vec<u8>, field: &str) {
    out.extend_from_slice(field.as_bytes());
    out.push(0);
}

/// Encodes a protocol 1 request: the operation and up to three arguments, padded to three.
pub fn encode_v1(command: &str, args: &[&str]) -> Result<Vec<u8>, EncodeError> {
    check_fields(command, args)?;
    if args.len() > 3 {
        return Err(EncodeError::TooManyArgs { count: args.len() });
    }
    if let Some((index, a)) = args.iter().enumerate().find(|(_, a)| a.len() > V1_MAX_ARG) {
        return Err(EncodeError::ArgTooLong {
            index,
            len: a.len(),
            max: V1_MAX_ARG,
        });
    }
    let mut out = b"1\0".to_vec();
    push_field(&mut out, command);
    for i in 0..3 {
        push_field(&mut out, args.get(i).copied().unwrap_or(""));
    }
    Ok(out)
}

/// Encodes a protocol 2 request with options (`streaming=0`…) and any number of arguments.
pub fn encode_v2(
    command: &str,
    options: &[(&str, &str)],
    args: &[&str],
) -> Result<Vec<u8>, EncodeError> {
    check_fields(command, args)?;
    let mut body = command.as_bytes().to_vec();
    for (i, (k, v)) in options.iter().enumerate() {
        body.push(if i == 0 { b' ' } else { b',' });
        body.extend_from_slice(format!("{k}={v}").as_bytes());
    }
    body.push(0);
    for a in args {
        push_field(&mut body, a);
    }
    if body.len() > V2_MAX_BODY {
        return Err(EncodeError::TooLarge {
            len: body.len(),
            max: V2_MAX_BODY,
        });
    }
    let mut out = format!("2\0{}\0", body.len()).into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// A decoded reply: the result code and the output as the JVM sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// 0 is success, -1 failure, 101 a protocol version the JVM does not speak.
    pub code: i32,
    /// Everything after the code line, byte for byte.
    pub output: Vec<u8>,
}

impl Reply {
    /// Splits a complete reply (read until EOF) into code and output.
    pub fn decode(mut bytes: Vec<u8>) -> Result<Reply, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        let line_end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let code = std::str::from_utf8(&bytes[..line_end])
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .ok_or_else(|| DecodeError::BadCode {
                start: String::from_utf8_lossy(&bytes[..line_end.min(40)]).into_owned(),
            })?;
        let output = bytes.split_off((line_end + 1).min(bytes.len()));
        Ok(Reply { code, output })
    }

    /// The output as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.output)
    }

    /// Whether the JVM reported a failure: a non-zero code, or a Java exception on the first or
    /// last line. JDK 25 answers 0 when a diagnostic command throws, so the text decides too.
    /// Commands that explain trouble in plain words with code 0 ("Could not …") are not failures
    /// here; the callers that know those commands judge them.
    pub fn failed(&self) -> bool {
        self.code != 0 || self.exception().is_some()
    }

    /// The Java exception line (`java.lang.IllegalArgumentException: …`) if the output has one
    /// as its first or last non-empty line.
    pub fn exception(&self) -> Option<String> {
        let text = self.text();
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next()?;
        let last = lines.next_back().unwrap_or(first);
        let found = [first, last].into_iter().find(|l| is_exception_line(l));
        found.map(str::to_string)
    }
}

/// Whether a line names a Java throwable: a dotted class name ending in `Exception` or `Error`,
/// alone or followed by `: message`.
pub fn is_exception_line(line: &str) -> bool {
    let class = line.split_once(": ").map_or(line, |(c, _)| c).trim_end();
    let simple = class.rsplit('.').next().unwrap_or("");
    let dotted = class.contains('.') && class.split('.').all(is_java_identifier);
    dotted && (simple.ends_with("Exception") || simple.ends_with("Error"))
}

/// Whether `s` is a Java identifier (ASCII letters, digits, `_`, `$`; not starting with a digit).
fn is_java_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// What a JVM said about protocol versions when asked `getversion options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Protocol 2 is available (JDK 24+, unless `-Djdk.attach.compat=true`).
    pub v2: bool,
    /// The `streaming` option is understood (JDK 25).
    pub streaming: bool,
}

impl Capabilities {
    /// The operation and arguments of the probe; any JVM answers it, old ones with -1.
    pub const PROBE: (&'static str, &'static [&'static str]) = ("getversion", &["options"]);

    /// Reads the probe's reply: `0\n2 streaming` on JDK 25, `-1\nOperation getversion not
    /// recognized!` before JDK 24.
    pub fn from_reply(reply: &Reply) -> Capabilities {
        if reply.code != 0 {
            return Capabilities::default();
        }
        let text = reply.text();
        let mut words = text.split_whitespace();
        let v2 = words
            .next()
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| v >= 2);
        Capabilities {
            v2,
            streaming: v2 && words.any(|w| w == "streaming"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_pads_to_three_arguments() {
        // Byte for byte what jattach and hs_attach.py send (REPORT §4.2).
        assert_eq!(
            encode_v1("jcmd", &["VM.version"]).unwrap(),
            b"1\0jcmd\0VM.version\0\0\0"
        );
        assert_eq!(
            encode_v1("properties", &[]).unwrap(),
            b"1\0properties\0\0\0\0"
        );
    }

    #[test]
    fn v1_refuses_what_the_jvm_would_drop() {
        let ok = "x".repeat(V1_MAX_ARG);
        assert!(encode_v1("jcmd", &[&ok]).is_ok());
        let long = "x".repeat(V1_MAX_ARG + 1);
        let err = encode_v1("jcmd", &[&long]).unwrap_err();
        assert_eq!(
            err,
            EncodeError::ArgTooLong {
                index: 0,
                len: 1025,
                max: 1024
            }
        );
        assert!(matches!(
            encode_v1("jcmd", &["a", "b", "c", "d"]),
            Err(EncodeError::TooManyArgs { .. })
        ));
        assert!(matches!(
            encode_v1("jcmd", &["a\0b"]),
            Err(EncodeError::Nul {
                index: 1,
                offset: 1
            })
        ));
        assert!(matches!(
            encode_v1("", &[]),
            Err(EncodeError::BadCommand { .. })
        ));
    }

    #[test]
    fn v2_counts_the_body() {
        let req = encode_v2("jcmd", &[("streaming", "0")], &["Compiler.codecache"]).unwrap();
        let body = b"jcmd streaming=0\0Compiler.codecache\0";
        let mut want = format!("2\0{}\0", body.len()).into_bytes();
        want.extend_from_slice(body);
        assert_eq!(req, want);
        let plain = encode_v2("jcmd", &[], &["x".repeat(5000).as_str()]).unwrap();
        assert!(plain.starts_with(b"2\x005006\0jcmd\0"));
    }

    #[test]
    fn replies_as_captured() {
        // outputs/jdk17/attach/attach_session.txt
        let r = Reply::decode(b"0\nOpenJDK 64-Bit Server VM version 17.0.15\n".to_vec()).unwrap();
        assert_eq!((r.code, r.failed()), (0, false));
        assert_eq!(r.text(), "OpenJDK 64-Bit Server VM version 17.0.15\n");
        let r = Reply::decode(b"-1\nOperation foo not recognized!".to_vec()).unwrap();
        assert_eq!((r.code, r.failed()), (-1, true));
        let r = Reply::decode(b"101\n".to_vec()).unwrap();
        assert_eq!((r.code, r.output.len()), (CODE_BAD_VERSION, 0));
        assert_eq!(Reply::decode(Vec::new()), Err(DecodeError::Empty));
        assert!(matches!(
            Reply::decode(b"HTTP/1.1".to_vec()),
            Err(DecodeError::BadCode { .. })
        ));
    }

    #[test]
    fn jdk25_exception_with_code_zero_is_a_failure() {
        let raw = b"0\njava.lang.IllegalArgumentException: Invalid granularity value 0. Should be positive.\n\n";
        let r = Reply::decode(raw.to_vec()).unwrap();
        assert_eq!(r.code, 0);
        assert!(r.failed());
        let r = Reply::decode(b"0\nsome output\nmore\njava.lang.IllegalStateException\n".to_vec());
        assert!(r.unwrap().failed());
        // Soft failures and ordinary text are not exceptions.
        for ok in [
            "0\nCould not stop recording \"x\".\n",
            "0\njava.lang.Thread.State: RUNNABLE\n",
            "0\n   1:  12  java.lang.IllegalArgumentException\n",
            "0\nExceptionTable\n",
        ] {
            assert!(
                !Reply::decode(ok.as_bytes().to_vec()).unwrap().failed(),
                "{ok}"
            );
        }
    }

    #[test]
    fn capabilities_from_getversion() {
        let jdk25 = Reply::decode(b"0\n2 streaming".to_vec()).unwrap();
        assert_eq!(
            Capabilities::from_reply(&jdk25),
            Capabilities {
                v2: true,
                streaming: true
            }
        );
        let jdk24 = Reply::decode(b"0\n2".to_vec()).unwrap();
        assert_eq!(
            Capabilities::from_reply(&jdk24),
            Capabilities {
                v2: true,
                streaming: false
            }
        );
        let jdk17 = Reply::decode(b"-1\nOperation getversion not recognized!".to_vec()).unwrap();
        assert_eq!(Capabilities::from_reply(&jdk17), Capabilities::default());
    }
}
