//! jcmd command lines as DiagnosticCommand MBean operations: `Compiler.directives_add /p`
//! becomes operation `compilerDirectivesAdd` with the argument string `/p`.

/// The MBean operation name of a jcmd command, as the JDK derives it
/// (`DiagnosticCommandImpl.transform`): lower case up to the first `.` or `_`, then each
/// separator dropped and the next character upper-cased.
pub fn operation_name(command: &str) -> String {
    let mut out = String::with_capacity(command.len());
    let (mut before_first, mut upper_next) = (true, false);
    for c in command.chars() {
        if c == '.' || c == '_' {
            before_first = false;
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else if before_first {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a jcmd command line into the operation name and its arguments. The arguments go
/// over as one string: the server joins its `String[]` with spaces into the same command line
/// that local jcmd sends, so quoting survives unchanged.
pub fn split_command_line(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    if name.is_empty() {
        return None;
    }
    let rest = rest.trim();
    let args = if rest.is_empty() {
        Vec::new()
    } else {
        vec![rest.to_string()]
    };
    Some((operation_name(name), args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arguments() {
        assert_eq!(operation_name("VM.version"), "vmVersion");
        assert_eq!(
            operation_name("Compiler.CodeHeap_Analytics"),
            "compilerCodeHeapAnalytics"
        );
        assert_eq!(operation_name("help"), "help");
        assert_eq!(
            split_command_line("  Compiler.directives_add  /tmp/d.json "),
            Some(("compilerDirectivesAdd".into(), vec!["/tmp/d.json".into()]))
        );
        assert_eq!(
            split_command_line("JFR.check"),
            Some(("jfrCheck".into(), vec![]))
        );
        assert_eq!(split_command_line("   "), None);
    }
}
