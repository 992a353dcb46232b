//! The original's loose typing of signed bodies, for `#[serde(deserialize_with = …)]`: the egg.js services read
//! parameters from JSON where an id, a pid or a page number may be a number or a numeric string.

use serde::de::{self, Deserializer, Unexpected, Visitor};

/// Text sent as a JSON string, or a number in its JSON form (`42` → `"42"`).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Text;
    impl Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("text or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_else(|| v.to_string()))
        }
    }
    d.deserialize_any(Text)
}

/// A non-negative integer sent as a number or a numeric string (`15000`, `"15000"`, `" 2 "`).
pub fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Uint;
    impl Visitor<'_> for Uint {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a non-negative integer")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            match v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
                true => Ok(v as u64),
                false => Err(E::invalid_value(Unexpected::Float(v), &self)),
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim().parse().map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
        }
    }
    d.deserialize_any(Uint)
}

/// A list of [`text`] items (`[123, "456"]` → `["123", "456"]`).
pub fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Item(#[serde(deserialize_with = "text")] String);
    Ok(<Vec<Item> as serde::Deserialize>::deserialize(d)?.into_iter().map(|i| i.0).collect())
}

/// [`uint`] for optional members: absent or `null` is `None`.
pub fn opt_uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Wrap(#[serde(deserialize_with = "uint")] u64);
    Ok(<Option<Wrap> as serde::Deserialize>::deserialize(d)?.map(|w| w.0))
}

/// [`uint`] as an `i64` (millisecond timestamps).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = uint(d)?;
    i64::try_from(v).map_err(|_| de::Error::custom("integer out of range"))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::uint")]
        n: u64,
        #[serde(default, deserialize_with = "super::opt_uint")]
        o: Option<u64>,
        #[serde(deserialize_with = "super::text")]
        t: String,
    }

    #[test]
    fn numbers_and_numeric_strings_are_accepted() {
        let t: T = serde_json::from_str(r#"{"n":"7","o":null,"t":12}"#).unwrap();
        assert_eq!((t.n, t.o, t.t.as_str()), (7, None, "12"));
        let t: T = serde_json::from_str(r#"{"n":7,"o":"3","t":"x"}"#).unwrap();
        assert_eq!((t.n, t.o), (7, Some(3)));
        let t: T = serde_json::from_str(r#"{"n":7,"t":"x"}"#).unwrap();
        assert_eq!(t.o, None);
        assert!(serde_json::from_str::<T>(r#"{"n":"-1","t":"x"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"n":1,"t":{}}"#).is_err());
    }
}
