//! Building `exec_command` strings safely. The agent splits a command on single spaces with no quoting
//! (reference §4.1), so an argument with whitespace would silently become two arguments: we refuse it instead.

use serde::Serialize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("command argument is empty")]
    Empty,
    #[error("command argument {0:?} contains whitespace or a control character, which the agent would split")]
    WouldSplit(String),
    #[error("command name {0:?} is not a plain command name")]
    BadName(String),
}

/// A command line for the agent: a name and arguments joined by single spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand(String);

impl ExecCommand {
    /// Command names are plain identifiers: the agent would otherwise resolve `../x` to a file.
    pub fn new(name: &str) -> Result<Self, CommandError> {
        let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        match plain {
            true => Ok(ExecCommand(name.to_owned())),
            false => Err(CommandError::BadName(name.to_owned())),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<str>) -> Result<Self, CommandError> {
        let arg = arg.as_ref();
        if arg.is_empty() {
            return Err(CommandError::Empty);
        }
        if arg.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(CommandError::WouldSplit(arg.to_owned()));
        }
        self.0.push(' ');
        self.0.push_str(arg);
        Ok(self)
    }

    pub fn args<I, S>(self, args: I) -> Result<Self, CommandError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        args.into_iter().try_fold(self, |cmd, a| cmd.arg(a))
    }

    /// `xprofctl <pid> <action> <options JSON>`: always the 3-argument form with an options object (§4.3).
    pub fn xprofctl<T: Serialize>(pid: &str, action: &str, options: &T) -> Result<Self, CommandError> {
        let json = serde_json::to_string(options).map_err(|e| CommandError::WouldSplit(e.to_string()))?;
        let json = match json.as_str() {
            "null" => "{}".to_owned(),
            _ => json,
        };
        Self::new("xprofctl")?.arg(pid)?.arg(action)?.arg(json)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_the_console_commands() {
        let cmd = ExecCommand::xprofctl("4242", "start_cpu_profiling", &json!({"profiling_time": 180000})).unwrap();
        assert_eq!(cmd.as_str(), r#"xprofctl 4242 start_cpu_profiling {"profiling_time":180000}"#);
        let cmd = ExecCommand::xprofctl("4242", "heapdump", &serde_json::Value::Null).unwrap();
        assert_eq!(cmd.as_str(), "xprofctl 4242 heapdump {}");
        let cmd = ExecCommand::new("check_processes_alive").unwrap().args(["1", "999999"]).unwrap();
        assert_eq!(cmd.as_str(), "check_processes_alive 1 999999");
    }

    #[test]
    fn refuses_arguments_that_would_split() {
        let base = || ExecCommand::new("check_file_status").unwrap();
        assert_eq!(base().arg("/tmp/a b").unwrap_err(), CommandError::WouldSplit("/tmp/a b".into()));
        assert!(base().arg("a\tb").is_err());
        assert!(base().arg("a\nb").is_err());
        assert_eq!(base().arg("").unwrap_err(), CommandError::Empty);
        assert!(ExecCommand::xprofctl("1", "x", &json!({"a": "b c"})).is_err());
    }

    #[test]
    fn refuses_command_names_that_are_paths() {
        assert!(ExecCommand::new("../../evil").is_err());
        assert!(ExecCommand::new("").is_err());
        assert!(ExecCommand::new("get os").is_err());
    }
}
