//! HotSpot's lenient JSON (json.cpp) as the directives parser reads it: unquoted keys, `/* */`
//! and `//` comments, including JDK 17's bug that swallows the character after a line comment.

/// Where a value starts: 1-based line and byte within the line, as HotSpot reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Byte within the line, from 1.
    pub byte: usize,
}

/// A parsed value with its position.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `{ key: value, ... }` in file order.
    Object(Pos, Vec<(Pos, String, Value)>),
    /// `[ value, ... ]`.
    Array(Pos, Vec<Value>),
    /// `"..."`.
    Str(Pos, String),
    /// A number; `integer` is false when it has a fraction or an exponent.
    Number(Pos, f64, bool),
    /// `true` / `false`.
    Bool(Pos, bool),
    /// `null`.
    Null(Pos),
}

impl Value {
    /// Where the value starts.
    pub fn pos(&self) -> Pos {
        match self {
            Value::Object(p, _) | Value::Array(p, _) | Value::Str(p, _) | Value::Number(p, ..) => {
                *p
            }
            Value::Bool(p, _) | Value::Null(p) => *p,
        }
    }
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}, byte {}: {message}", pos.line, pos.byte)]
pub struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What was expected.
    pub message: String,
}

/// Deeper nesting than any directives file needs; bounds the recursion on hostile input.
const MAX_DEPTH: usize = 32;

/// Parses one value followed only by whitespace and comments.
pub fn parse(text: &str, line_comment_bug: bool) -> Result<Value, SyntaxError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        line: 1,
        line_start: 0,
        bug: line_comment_bug,
    };
    let v = p.value(0)?;
    p.skip_ws()?;
    if p.i < p.s.len() {
        return Err(p.err("end of input after the top-level value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    line_start: usize,
    bug: bool,
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            byte: self.i - self.line_start + 1,
        }
    }

    fn err(&self, expected: &str) -> SyntaxError {
        let got = match self.s.get(self.i) {
            Some(&c) => format!("'{}'", c as char),
            None => "end of file".into(),
        };
        SyntaxError {
            pos: self.pos(),
            message: format!("expected {expected}, got {got}"),
        }
    }

    fn bump(&mut self) {
        if self.s.get(self.i) == Some(&b'\n') {
            self.line += 1;
            self.line_start = self.i + 1;
        }
        self.i += 1;
    }

    /// Skips whitespace and comments. JDK 17 drops one more character after a line comment.
    fn skip_ws(&mut self) -> Result<(), SyntaxError> {
        loop {
            match (self.s.get(self.i), self.s.get(self.i + 1)) {
                (Some(c), _) if c.is_ascii_whitespace() => self.bump(),
                (Some(b'/'), Some(b'/')) => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.bump();
                    }
                    self.bump();
                    if self.bug && self.i < self.s.len() {
                        self.bump();
                    }
                }
                (Some(b'/'), Some(b'*')) => self.block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn block_comment(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos();
        self.i += 2;
        while self.i + 1 < self.s.len() && !(self.s[self.i] == b'*' && self.s[self.i + 1] == b'/') {
            self.bump();
        }
        if self.i + 1 >= self.s.len() {
            return Err(SyntaxError {
                pos: start,
                message: "a comment that ends with */".into(),
            });
        }
        self.i += 2;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.skip_ws()?;
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("at most {MAX_DEPTH} levels of nesting")));
        }
        let pos = self.pos();
        match self.s.get(self.i) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Value::Str(pos, self.string()?)),
            Some(c) if c.is_ascii_digit() || *c == b'-' => self.number(),
            Some(_) => self.word(),
            None => Err(self.err("a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let pos = self.pos();
        self.bump();
        let mut members = Vec::new();
        self.skip_ws()?;
        if self.s.get(self.i) == Some(&b'}') {
            self.bump();
            return Ok(Value::Object(pos, members));
        }
        loop {
            self.skip_ws()?;
            let kpos = self.pos();
            let key = self.key()?;
            self.skip_ws()?;
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("':' after a key"));
            }
            self.bump();
            members.push((kpos, key, self.value(depth + 1)?));
            self.skip_ws()?;
            match self.s.get(self.i) {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(Value::Object(pos, members));
                }
                _ => return Err(self.err("value separator or object end (one of ',}')")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let pos = self.pos();
        self.bump();
        let mut items = Vec::new();
        self.skip_ws()?;
        if self.s.get(self.i) == Some(&b']') {
            self.bump();
            return Ok(Value::Array(pos, items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws()?;
            match self.s.get(self.i) {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(Value::Array(pos, items));
                }
                _ => return Err(self.err("value separator or array end (one of ',]')")),
            }
        }
    }

    /// A quoted key, or an unquoted one of letters, digits, `_` and `$`.
    fn key(&mut self) -> Result<String, SyntaxError> {
        if self.s.get(self.i) == Some(&b'"') {
            return self.string();
        }
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
        {
            self.bump();
        }
        if start == self.i {
            return Err(self.err("a key"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos();
        self.bump();
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None | Some(b'\n') => {
                    return Err(SyntaxError {
                        pos: start,
                        message: "a string closed by '\"' on the same line".into(),
                    })
                }
                Some(b'"') => {
                    self.bump();
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.bump();
                    let Some(&c) = self.s.get(self.i) else {
                        continue;
                    };
                    out.push(c);
                    self.bump();
                }
                Some(&c) => {
                    out.push(c);
                    self.bump();
                }
            }
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let pos = self.pos();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
        {
            self.bump();
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        let integer = !text.contains(['.', 'e', 'E']);
        match text.parse::<f64>() {
            Ok(v) => Ok(Value::Number(pos, v, integer)),
            Err(_) => Err(SyntaxError {
                pos,
                message: format!("a number, got '{text}'"),
            }),
        }
    }

    fn word(&mut self) -> Result<Value, SyntaxError> {
        let pos = self.pos();
        for (w, v) in [
            ("true", Value::Bool(pos, true)),
            ("false", Value::Bool(pos, false)),
            ("null", Value::Null(pos)),
        ] {
            if self.s[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                return Ok(v);
            }
        }
        Err(self.err("a value (object, array, string, number, true, false or null)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_forms() {
        let v = parse(
            "/* c */ [ { match: \"a.b\", \"c2\": { X: -1.5e3, Y: true } } ]",
            false,
        )
        .unwrap();
        let Value::Array(_, items) = v else { panic!() };
        let Value::Object(_, m) = &items[0] else {
            panic!()
        };
        assert_eq!(m[0].1, "match");
        assert_eq!(m[0].0, Pos { line: 1, byte: 13 });
    }

    #[test]
    fn jdk17_line_comment_swallows_the_next_character() {
        assert!(parse("// c\n[1]", false).is_ok());
        let e = parse("// c\n[1]", true).unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(parse("[ // c\n  1]", true).is_ok());
    }

    #[test]
    fn errors_do_not_panic() {
        for s in [
            "",
            "[",
            "{a",
            "{a:",
            "[1,",
            "\"x",
            "/*",
            "{\"a\" 1}",
            "tru",
            "[1 2]",
            "--",
        ] {
            assert!(parse(s, false).is_err(), "{s}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep, false).is_err());
    }
}
