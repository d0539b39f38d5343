//! Consistency levels, the `[consistency]` notation of the spec (a `[short]` code).

use std::fmt;
use std::str::FromStr;

use crate::error::DecodeError;

/// A consistency level with its wire code (native protocol v4 §3, `[consistency]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum Consistency {
    /// `ANY` (0x0000).
    Any = 0x0000,
    /// `ONE` (0x0001).
    One = 0x0001,
    /// `TWO` (0x0002).
    Two = 0x0002,
    /// `THREE` (0x0003).
    Three = 0x0003,
    /// `QUORUM` (0x0004).
    Quorum = 0x0004,
    /// `ALL` (0x0005).
    All = 0x0005,
    /// `LOCAL_QUORUM` (0x0006).
    LocalQuorum = 0x0006,
    /// `EACH_QUORUM` (0x0007).
    EachQuorum = 0x0007,
    /// `SERIAL` (0x0008).
    Serial = 0x0008,
    /// `LOCAL_SERIAL` (0x0009).
    LocalSerial = 0x0009,
    /// `LOCAL_ONE` (0x000A).
    LocalOne = 0x000A,
}

impl Consistency {
    /// Every level, in code order.
    pub const ALL_LEVELS: [Consistency; 11] = [
        Consistency::Any,
        Consistency::One,
        Consistency::Two,
        Consistency::Three,
        Consistency::Quorum,
        Consistency::All,
        Consistency::LocalQuorum,
        Consistency::EachQuorum,
        Consistency::Serial,
        Consistency::LocalSerial,
        Consistency::LocalOne,
    ];

    /// The wire code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The level for a wire code.
    pub fn from_code(code: u16) -> Result<Self, DecodeError> {
        Ok(match code {
            0x0000 => Consistency::Any,
            0x0001 => Consistency::One,
            0x0002 => Consistency::Two,
            0x0003 => Consistency::Three,
            0x0004 => Consistency::Quorum,
            0x0005 => Consistency::All,
            0x0006 => Consistency::LocalQuorum,
            0x0007 => Consistency::EachQuorum,
            0x0008 => Consistency::Serial,
            0x0009 => Consistency::LocalSerial,
            0x000A => Consistency::LocalOne,
            _ => return Err(DecodeError::UnknownConsistency { code }),
        })
    }

    /// The upper-case name Cassandra uses (`"LOCAL_QUORUM"`).
    pub fn name(self) -> &'static str {
        match self {
            Consistency::Any => "ANY",
            Consistency::One => "ONE",
            Consistency::Two => "TWO",
            Consistency::Three => "THREE",
            Consistency::Quorum => "QUORUM",
            Consistency::All => "ALL",
            Consistency::LocalQuorum => "LOCAL_QUORUM",
            Consistency::EachQuorum => "EACH_QUORUM",
            Consistency::Serial => "SERIAL",
            Consistency::LocalSerial => "LOCAL_SERIAL",
            Consistency::LocalOne => "LOCAL_ONE",
        }
    }

    /// True for `SERIAL` and `LOCAL_SERIAL`, the only levels valid as a serial consistency.
    pub fn is_serial(self) -> bool {
        matches!(self, Consistency::Serial | Consistency::LocalSerial)
    }

    /// True for the levels evaluated against the coordinator's datacenter only.
    pub fn is_datacenter_local(self) -> bool {
        matches!(
            self,
            Consistency::LocalOne | Consistency::LocalQuorum | Consistency::LocalSerial
        )
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given to [`Consistency::from_str`] is not a level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown consistency level {name:?}")]
pub struct UnknownConsistencyName {
    /// The rejected name.
    pub name: String,
}

impl FromStr for Consistency {
    type Err = UnknownConsistencyName;

    /// Parses a level name case-insensitively (`"local_quorum"`, `"LOCAL_QUORUM"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Consistency::ALL_LEVELS
            .iter()
            .copied()
            .find(|level| level.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownConsistencyName { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for (index, level) in Consistency::ALL_LEVELS.iter().enumerate() {
            assert_eq!(usize::from(level.code()), index);
            assert_eq!(Consistency::from_code(level.code()), Ok(*level));
            assert_eq!(level.name().parse::<Consistency>(), Ok(*level));
            assert_eq!(
                level.name().to_lowercase().parse::<Consistency>(),
                Ok(*level)
            );
        }
        assert_eq!(Consistency::LocalQuorum.name(), "LOCAL_QUORUM");
        assert_eq!(Consistency::LocalOne.code(), 0x000A);
        assert_eq!(
            Consistency::from_code(0x000B),
            Err(DecodeError::UnknownConsistency { code: 0x000B })
        );
        assert!("QUORUMS".parse::<Consistency>().is_err());
        assert!(Consistency::LocalSerial.is_serial());
        assert!(!Consistency::Quorum.is_serial());
        assert!(Consistency::LocalOne.is_datacenter_local());
        assert!(!Consistency::EachQuorum.is_datacenter_local());
    }
}
