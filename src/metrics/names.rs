//! The names of levels, weights and bands as the CLI, JSON and SQL write them (snake_case,
//! the same as their serde names), with `as_str`, `FromStr`, `Display` and `ALL`.

use super::{Band, Level, Weight};
use crate::error::{Error, Result};

macro_rules! names {
    ($ty:ident, $what:literal, [$($variant:ident = $name:literal),+ $(,)?]) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name used by the CLI, JSON and SQL.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(Error::ConfigValue(format!(
                        concat!($what, " {:?}: expected one of {}"),
                        s,
                        [$($name),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(
    Level,
    "level",
    [
        Instance = "instance",
        Organisation = "organisation",
        As = "as",
        Range = "range",
        Block = "block",
        Country = "country",
        Hosting = "hosting",
    ]
);

names!(
    Weight,
    "weight",
    [
        Accounts = "accounts",
        Edges = "edges",
        Instances = "instances",
        Users = "users",
        Active = "active",
    ]
);

names!(
    Band,
    "band",
    [Unconcentrated = "unconcentrated", Moderate = "moderate", High = "high",]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), *l);
            assert_eq!(serde_json::to_string(l).unwrap(), format!("\"{}\"", l.as_str()));
        }
        for w in Weight::ALL {
            assert_eq!(w.as_str().parse::<Weight>().unwrap(), *w);
            assert_eq!(serde_json::to_string(w).unwrap(), format!("\"{}\"", w.as_str()));
        }
        for b in Band::ALL {
            assert_eq!(b.as_str().parse::<Band>().unwrap(), *b);
            assert_eq!(serde_json::to_string(b).unwrap(), format!("\"{}\"", b.as_str()));
        }
        assert_eq!(Level::ALL.len(), 7);
        assert_eq!(Weight::ALL.len(), 5);
        assert_eq!(
            "org".parse::<Level>().unwrap_err().to_string(),
            "config: level \"org\": expected one of instance, organisation, as, range, block, country, hosting"
        );
    }
}
