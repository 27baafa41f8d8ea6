//! A [`Table`]'s rows read as typed records: each row a map from column name to value, read
//! by serde into any `Deserialize` type, as its JSON rendering would be read, without
//! writing and parsing JSON.
//!
//! A value reads as it is written in JSON: an integer as an integer, a real as a number
//! (`null` when it is not finite), text as a string, NULL as `null` (so `None`), a blob as a
//! hex string. A column named twice counts once, with its last value; columns the record
//! does not name are skipped.

use rusqlite::types::Value;
use serde::de::value::{Error as DeError, MapDeserializer};
use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};

use super::Table;

/// One cell of a table, for serde.
struct Cell<'a>(&'a Value);

impl<'de> Deserializer<'de> for Cell<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Real(f) if f.is_finite() => visitor.visit_f64(*f),
            Value::Real(_) => visitor.visit_unit(),
            Value::Text(t) => visitor.visit_str(t),
            Value::Blob(b) => visitor.visit_string(b.iter().map(|x| format!("{x:02x}")).collect()),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            Value::Real(f) if !f.is_finite() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

impl<'de, 'a> IntoDeserializer<'de, DeError> for Cell<'a> {
    type Deserializer = Cell<'a>;

    fn into_deserializer(self) -> Cell<'a> {
        self
    }
}

impl Table {
    /// Every row as a `T`, its fields read from the columns of the same name.
    ///
    /// # Errors
    /// What serde says of the first row that does not fit `T` (a missing column, a value of
    /// another type), with the row's number (from 1).
    pub fn records<T: DeserializeOwned>(&self) -> Result<Vec<T>, String> {
        let last = |i: usize| !self.columns[i + 1..].contains(&self.columns[i]);
        self.rows
            .iter()
            .enumerate()
            .map(|(n, row)| {
                let cells = (0..self.columns.len())
                    .filter(|i| last(*i))
                    .map(|i| (self.columns[i].as_str(), Cell(&row[i])));
                T::deserialize(MapDeserializer::new(cells)).map_err(|e| format!("row {}: {e}", n + 1))
            })
            .collect()
    }
}
