//! Time on the disk: seconds since the Unix epoch, and tax periods (`YYYYMM`) in China Standard
//! Time (UTC+8, no daylight saving), computed without `std`.

use core::fmt;
use serde::{Deserialize, Serialize};

/// Offset of China Standard Time from UTC, in seconds. Periods and printed dates use it.
pub const CST_OFFSET_SECS: i64 = 8 * 3600;

/// A point in time: whole seconds since 1970-01-01T00:00:00Z.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp(pub u64);

#[cfg(feature = "std")]
impl Timestamp {
    /// The system clock as a timestamp (a clock before 1970 reads as 1970).
    pub fn now() -> Timestamp {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    }
}

/// A calendar date and time of day in China Standard Time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilTime {
    /// Year, e.g. 2026.
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day of month 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Timestamp {
    /// The time in China Standard Time, split into calendar fields.
    pub const fn civil(self) -> CivilTime {
        let local = self.0 as i64 + CST_OFFSET_SECS;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        CivilTime {
            year: y as u16,
            month: m as u8,
            day: d as u8,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    /// The instant of a China Standard Time calendar date and time.
    pub const fn from_civil(c: CivilTime) -> Timestamp {
        let days = days_from_civil(c.year as i64, c.month as u32, c.day as u32);
        let local = days * 86_400 + c.hour as i64 * 3600 + c.minute as i64 * 60 + c.second as i64;
        let utc = local - CST_OFFSET_SECS;
        Timestamp(if utc < 0 { 0 } else { utc as u64 })
    }

    /// The tax period (month, China Standard Time) this instant falls in.
    pub const fn period(self) -> Period {
        let c = self.civil();
        Period {
            year: c.year,
            month: c.month,
        }
    }

    /// This instant plus `secs` seconds, saturating.
    pub const fn plus_secs(self, secs: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }

    /// This instant moved by `secs` seconds either way, saturating at the epoch and at the
    /// end of the range (a clock offset: a simulated clock that runs `secs` ahead of another).
    pub const fn shifted(self, secs: i64) -> Timestamp {
        if secs >= 0 {
            self.plus_secs(secs as u64)
        } else {
            Timestamp(self.0.saturating_sub(secs.unsigned_abs()))
        }
    }

    /// Seconds from `earlier` to this instant (negative when `earlier` is later), saturating.
    pub const fn secs_since(self, earlier: Timestamp) -> i64 {
        let d = self.0 as i128 - earlier.0 as i128;
        if d > i64::MAX as i128 {
            i64::MAX
        } else if d < i64::MIN as i128 {
            i64::MIN
        } else {
            d as i64
        }
    }

    /// A China Standard Time date and time of day, to the minute (tests and scripts:
    /// `Timestamp::cst(2026, 12, 31, 23, 30)`). Fields out of range roll over as in
    /// [`Timestamp::from_civil`].
    pub const fn cst(year: u16, month: u8, day: u8, hour: u8, minute: u8) -> Timestamp {
        Timestamp::from_civil(CivilTime {
            year,
            month,
            day,
            hour,
            minute,
            second: 0,
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

/// A tax period: one calendar month in China Standard Time. On the wire it is the number
/// `YYYYMM` (e.g. `202611`); decoding refuses a month outside 1..=12.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u32", try_from = "u32")]
pub struct Period {
    /// Year, 2000..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
}

/// A value that is not a period `YYYYMM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPeriod;

impl fmt::Display for BadPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a period YYYYMM with month 01-12")
    }
}

impl Period {
    /// A period from year and month; `None` unless 2000 <= year <= 9999 and 1 <= month <= 12.
    pub const fn new(year: u16, month: u8) -> Option<Period> {
        if year >= 2000 && year <= 9999 && month >= 1 && month <= 12 {
            Some(Period { year, month })
        } else {
            None
        }
    }

    /// The number `YYYYMM`.
    pub const fn yyyymm(self) -> u32 {
        self.year as u32 * 100 + self.month as u32
    }

    /// The following month.
    pub const fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The preceding month.
    pub const fn prev(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The first second of the period (00:00:00 of day 1, China Standard Time).
    pub const fn start(self) -> Timestamp {
        Timestamp::from_civil(CivilTime {
            year: self.year,
            month: self.month,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        })
    }

    /// The first second after the period.
    pub const fn end(self) -> Timestamp {
        self.next().start()
    }

    /// Whether `t` falls inside this period.
    pub const fn contains(self, t: Timestamp) -> bool {
        t.0 >= self.start().0 && t.0 < self.end().0
    }
}

impl From<Period> for u32 {
    fn from(p: Period) -> u32 {
        p.yyyymm()
    }
}

impl TryFrom<u32> for Period {
    type Error = BadPeriod;
    fn try_from(v: u32) -> Result<Period, BadPeriod> {
        let year = v / 100;
        if year > u16::MAX as u32 {
            return Err(BadPeriod);
        }
        Period::new(year as u16, (v % 100) as u8).ok_or(BadPeriod)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(not(feature = "std"))]
    use std::string::ToString;

    #[test]
    fn civil_round_trip_and_cst() {
        // 2026-11-26 04:52:10 UTC is 12:52:10 in Beijing.
        let t = Timestamp(1_795_668_730);
        let c = t.civil();
        assert_eq!((c.year, c.month, c.day, c.hour), (2026, 11, 26, 12));
        assert_eq!(Timestamp::from_civil(c), t);
        assert_eq!(t.period(), Period::new(2026, 11).unwrap());
    }

    #[test]
    fn period_bounds_are_cst_midnight() {
        let p = Period::new(2026, 12).unwrap();
        assert_eq!(p.next(), Period::new(2027, 1).unwrap());
        assert_eq!(p.prev(), Period::new(2026, 11).unwrap());
        // 2026-11-30 16:00:00 UTC is 2026-12-01 00:00 CST.
        assert_eq!(p.start().civil().hour, 0);
        assert!(p.contains(p.start()));
        assert!(!p.contains(Timestamp(p.start().0 - 1)));
        assert!(!p.contains(p.end()));
    }

    #[test]
    fn month_and_year_edges_in_china_time() {
        // 31 December 23:30 in Beijing is 15:30 UTC: still December, period 202612.
        let t = Timestamp::cst(2026, 12, 31, 23, 30);
        assert_eq!(t.0 % 86_400, 15 * 3600 + 30 * 60);
        assert_eq!(t.period(), Period::new(2026, 12).unwrap());
        let p = t.period();
        assert_eq!(p.end(), Timestamp::cst(2027, 1, 1, 0, 0));
        assert_eq!(t.plus_secs(30 * 60).period(), Period::new(2027, 1).unwrap());
        assert_eq!(Timestamp(t.plus_secs(30 * 60).0 - 1).period(), p);
        // 28/29 February.
        assert_eq!(
            Timestamp::cst(2027, 2, 28, 12, 0)
                .plus_secs(86_400)
                .civil()
                .month,
            3
        );
        let leap = Timestamp::cst(2028, 2, 28, 12, 0).plus_secs(86_400).civil();
        assert_eq!((leap.month, leap.day), (2, 29));
        assert_eq!(
            Period::new(2028, 2).unwrap().end().0 - Period::new(2028, 2).unwrap().start().0,
            29 * 86_400
        );
        assert_eq!(
            Period::new(2100, 2).unwrap().end().0 - Period::new(2100, 2).unwrap().start().0,
            28 * 86_400
        );
        // A day past the month's end rolls into the next month.
        assert_eq!(
            Timestamp::cst(2026, 11, 31, 0, 0),
            Timestamp::cst(2026, 12, 1, 0, 0)
        );
        // Offsets both ways.
        assert_eq!(t.shifted(-3600).shifted(3600), t);
        assert_eq!(t.secs_since(t.shifted(-90)), 90);
        assert_eq!(Timestamp(5).shifted(-10), Timestamp(0));
        assert_eq!(Timestamp(u64::MAX).shifted(1), Timestamp(u64::MAX));
    }

    #[test]
    fn period_decoding_refuses_bad_months() {
        assert!(Period::try_from(202_613).is_err());
        assert!(Period::try_from(202_600).is_err());
        assert!(Period::try_from(199_912).is_err());
        assert_eq!(Period::try_from(202_601).unwrap().to_string(), "202601");
    }
}
