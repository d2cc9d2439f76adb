//! The values that cross the backend seam: [`Value`] (a parameter or a column, in the four
//! types the schema uses on both SQLite and PostgreSQL) and [`Row`], a result row read by
//! position with typed accessors that turn a wrong type into [`BureauError::Corrupt`].

use crate::bureau::BureauError;

/// A parameter or a column value. Integers are 64-bit (`INTEGER` on SQLite, `BIGINT` on
/// PostgreSQL), booleans are stored as 0 and 1, structured values as JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (`BLOB` / `BYTEA`).
    Bytes(Vec<u8>),
}

impl Value {
    /// The type's name, for error messages.
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i64, i32, u32, u16, u8, bool);

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// The parameters of one statement: `args![a, b]` is `[Value::from(a), Value::from(b)]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        [$($crate::bureau::db::Value::from($v)),*]
    };
}
pub(crate) use args;

/// One result row, its columns in the order of the `SELECT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row(pub(crate) Vec<Value>);

impl Row {
    fn col(&self, i: usize) -> Result<&Value, BureauError> {
        self.0
            .get(i)
            .ok_or_else(|| BureauError::Corrupt(format!("result has no column {i}")))
    }

    fn wrong(&self, i: usize, want: &str) -> BureauError {
        let found = self.0.get(i).map_or("nothing", Value::type_name);
        BureauError::Corrupt(format!("column {i}: expected {want}, found {found}"))
    }

    /// An integer column, `None` for NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, BureauError> {
        match self.col(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    /// An integer column that is not NULL.
    pub fn int(&self, i: usize) -> Result<i64, BureauError> {
        self.opt_int(i)?.ok_or_else(|| self.wrong(i, "an integer"))
    }

    /// An integer column converted to a narrower type (`u32`, `u8`, ...).
    pub fn num<T: TryFrom<i64>>(&self, i: usize) -> Result<T, BureauError> {
        let v = self.int(i)?;
        T::try_from(v).map_err(|_| BureauError::Corrupt(format!("column {i}: {v} out of range")))
    }

    /// A 0/1 column as a boolean.
    pub fn flag(&self, i: usize) -> Result<bool, BureauError> {
        Ok(self.int(i)? != 0)
    }

    /// A text column, `None` for NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, BureauError> {
        match self.col(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "text")),
        }
    }

    /// A text column that is not NULL.
    pub fn text(&self, i: usize) -> Result<String, BureauError> {
        self.opt_text(i)?.ok_or_else(|| self.wrong(i, "text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_accessors_refuse_wrong_types_and_ranges() {
        let r = Row(vec![Value::Int(300), Value::Null, Value::from("x")]);
        assert_eq!(r.int(0).ok(), Some(300));
        assert!(r.num::<u8>(0).is_err());
        assert_eq!(r.num::<u16>(0).ok(), Some(300));
        assert_eq!(r.opt_int(1).ok(), Some(None));
        assert!(r.int(1).is_err());
        assert!(r.text(0).is_err());
        assert_eq!(r.text(2).ok().as_deref(), Some("x"));
        assert!(r.int(3).is_err());
        assert_eq!(Value::from(Some(true)), Value::Int(1));
        assert_eq!(Value::from(None::<&str>), Value::Null);
    }
}
