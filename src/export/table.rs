//! One exported table: typed fields with descriptions, keys, and rows of typed values.
//!
//! Every writer (CSV, Parquet) and the Data Package description read this one shape, so a
//! column has the same name, type and meaning in every file and in `datapackage.json`.

/// The type of a field, as the Table Schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit signed integer.
    Integer,
    /// 64-bit float.
    Number,
    Boolean,
    /// UTF-8 text.
    String,
    /// An ISO-8601 / RFC 3339 time in UTC, written as text (`2026-11-22T00:22:02Z`).
    Datetime,
}

impl Kind {
    /// The Table Schema type name.
    pub fn schema_name(self) -> &'static str {
        match self {
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::String => "string",
            Kind::Datetime => "datetime",
        }
    }
}

/// One column.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Never null.
    pub required: bool,
    pub description: &'static str,
}

/// A field that may be null.
pub const fn field(name: &'static str, kind: Kind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        required: false,
        description,
    }
}

/// A field that is never null.
pub const fn required(name: &'static str, kind: Kind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        required: true,
        description,
    }
}

/// A foreign key: `fields` of this table reference `fields` of table `resource`.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub fields: &'static [&'static str],
    pub resource: &'static str,
    pub reference: &'static [&'static str],
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Num(f64),
    Bool(bool),
    Text(String),
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Self {
        v.map_or(Value::Null, Value::Bool)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Num(v)
    }
}

/// A count or size from the crawl; beyond `i64::MAX` it saturates (no server has that many).
pub fn count(v: impl TryInto<i64>) -> Value {
    Value::Int(v.try_into().unwrap_or(i64::MAX))
}

/// An optional count, as [`count`].
pub fn opt_count(v: Option<u64>) -> Value {
    v.map_or(Value::Null, count)
}

/// A table of the export.
#[derive(Debug, Clone)]
pub struct Table {
    /// The resource name, also the file stem (`accounts` → `accounts.csv`).
    pub name: &'static str,
    pub description: &'static str,
    pub fields: Vec<Field>,
    pub primary_key: &'static [&'static str],
    pub foreign_keys: Vec<ForeignKey>,
    /// Each row has one value per field, in field order.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// An empty table.
    pub fn new(
        name: &'static str,
        description: &'static str,
        fields: Vec<Field>,
        primary_key: &'static [&'static str],
    ) -> Table {
        Table {
            name,
            description,
            fields,
            primary_key,
            foreign_keys: vec![],
            rows: vec![],
        }
    }

    /// With a foreign key.
    pub fn references(
        mut self,
        fields: &'static [&'static str],
        resource: &'static str,
        reference: &'static [&'static str],
    ) -> Table {
        self.foreign_keys.push(ForeignKey {
            fields,
            resource,
            reference,
        });
        self
    }

    /// Add a row (one value per field; a caller bug otherwise, caught by the writers' checks).
    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.fields.len(), "row of {}", self.name);
        self.rows.push(row);
    }

    /// The values of column `i`.
    pub fn column(&self, i: usize) -> impl Iterator<Item = &Value> {
        self.rows.iter().map(move |r| r.get(i).unwrap_or(&Value::Null))
    }
}
