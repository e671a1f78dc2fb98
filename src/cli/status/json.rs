//! A small JSON writer for the commands' `--format json` (no dependency): a `Value` tree written
//! compactly, strings escaped per RFC 8259, object keys in the order given (so the output is
//! stable), non-finite floats as `null`.

use std::fmt::Write;

/// A JSON value. Objects keep their keys in insertion order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Any integer a counter (u64) or a signed value (i64) holds.
    Int(i128),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(&'static str, Value)>),
}

impl Value {
    /// The compact text of the value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            // Display of an f64 never uses an exponent and always has digits: valid JSON.
            Self::Float(x) if x.is_finite() => {
                let _ = write!(out, "{x}");
            }
            Self::Float(_) => out.push_str("null"),
            Self::Str(s) => write_string(s, out),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Self::Int(n.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Self::Int(n.into())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Self::Int(n.into())
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Self::Float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let v = Value::from("a\"b\\c\nd\te\u{1}f\u{7f}é");
        assert_eq!(v.to_json(), r#""a\"b\\c\nd\te\u0001f\u007fé""#);
    }

    #[test]
    fn nested_values_keep_key_order() {
        let v = Value::Object(vec![
            ("z", Value::Int(1)),
            (
                "a",
                Value::Array(vec![Value::Null, true.into(), 2.5.into()]),
            ),
            ("none", Option::<u32>::None.into()),
            ("s", Some("x").into()),
            ("empty", Value::Object(vec![])),
        ]);
        assert_eq!(
            v.to_json(),
            r#"{"z":1,"a":[null,true,2.5],"none":null,"s":"x","empty":{}}"#
        );
    }

    #[test]
    fn floats_are_plain_numbers() {
        assert_eq!(Value::from(12.0).to_json(), "12");
        assert_eq!(Value::from(0.001).to_json(), "0.001");
        assert_eq!(Value::from(1e21).to_json(), "1000000000000000000000");
        assert_eq!(Value::from(f64::NAN).to_json(), "null");
        assert_eq!(Value::from(u64::MAX).to_json(), "18446744073709551615");
        assert_eq!(Value::from(i64::MIN).to_json(), "-9223372036854775808");
    }
}
