//! Cassandra's textual forms of temporal values: parsing and printing `timestamp` (ms since
//! the epoch), `date` (days with the epoch at 2^31), `time` (ns since midnight) and
//! `duration` (months, days, ns), and the arithmetic of adding a duration to a timestamp or
//! a date. Calendar computations are proleptic Gregorian in UTC, as Cassandra's.
//!
//! Invariants: parsers never panic and report Cassandra's `MarshalException` messages;
//! arithmetic saturates or errors instead of overflowing.

/// Days between day 0 of the `date` type and 1970-01-01.
pub const DATE_EPOCH_DAYS: i64 = 1 << 31;

/// Milliseconds in a day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// Nanoseconds in a day.
pub const NANOS_PER_DAY: i64 = 86_400_000_000_000;

const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// A tiny cursor over ASCII text.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Between `min` and `max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.pos;
        let mut v: i64 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
                    self.pos += 1;
                }
                _ => break,
            }
        }
        let n = self.pos - start;
        (n >= min).then_some((v, n))
    }

    fn done(&self) -> bool {
        self.pos >= self.s.len()
    }
}

/// Parses the date of a timestamp, `yyyy-MM-dd` (year with optional sign and 1 to 9 digits),
/// at the cursor, resolved as java.time's `SMART` style does (the style of Cassandra's
/// timestamp formatters): month 1 to 12 and day 1 to 31, a day past the end of its month
/// becoming the month's last day (`2024-02-30` is 2024-02-29).
fn parse_ymd(c: &mut Cursor<'_>) -> Option<(i64, u32, u32)> {
    let negative = c.eat(b'-');
    if !negative {
        c.eat(b'+');
    }
    let (year, _) = c.digits(1, 9)?;
    let year = if negative { -year } else { year };
    if !c.eat(b'-') {
        return None;
    }
    let (month, _) = c.digits(1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let (day, _) = c.digits(1, 2)?;
    let month = u32::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
    Some((year, month, day.min(days_in_month(year, month))))
}

/// Longest year java.time's `ISO_LOCAL_DATE` parses (`Year.MAX_VALUE`).
const MAX_ISO_YEAR: i64 = 999_999_999;

/// Parses a whole `date` string as java.time's `ISO_LOCAL_DATE` with the `STRICT` resolver
/// (Cassandra's `SimpleDateSerializer`): a year of 4 to 10 digits, which must carry a `+`
/// when it has more than 4 digits and must not carry one otherwise (`-` is always allowed,
/// but not on year zero), then exactly two digits each of month and day, a real calendar day.
fn parse_iso_local_date(text: &str) -> Option<(i64, u32, u32)> {
    let mut c = Cursor {
        s: text.as_bytes(),
        pos: 0,
    };
    let negative = c.eat(b'-');
    let positive = !negative && c.eat(b'+');
    let (year, width) = c.digits(4, 10)?;
    if (positive && width <= 4) || (!positive && !negative && width > 4) {
        return None;
    }
    if negative && year == 0 {
        return None;
    }
    if year > MAX_ISO_YEAR {
        return None;
    }
    let year = if negative { -year } else { year };
    let two_digits = |c: &mut Cursor<'_>| -> Option<u32> {
        if !c.eat(b'-') {
            return None;
        }
        let (v, _) = c.digits(2, 2)?;
        u32::try_from(v).ok()
    };
    let month = two_digits(&mut c)?;
    let day = two_digits(&mut c)?;
    if !c.done() || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((year, month, day))
}

/// Parses a zone suffix (`Z`, `UTC`, `GMT`, `+hh`, `+hhmm`, `+hh:mm`, optionally preceded
/// by a space) as an offset in minutes.
fn parse_zone(c: &mut Cursor<'_>) -> Option<i64> {
    c.eat(b' ');
    let rest = std::str::from_utf8(c.s.get(c.pos..)?).ok()?;
    for name in ["UTC", "GMT", "Z", "z"] {
        if let Some(after) = rest.strip_prefix(name) {
            c.pos += name.len();
            if after.is_empty() {
                return Some(0);
            }
            if name == "Z" || name == "z" {
                return None;
            }
        }
    }
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.pos += 1;
    let (hours, _) = c.digits(2, 2)?;
    let minutes = if c.eat(b':') {
        c.digits(2, 2)?.0
    } else {
        c.digits(2, 2).map(|(m, _)| m).unwrap_or(0)
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes))
}

/// Parses a timestamp as Cassandra's `TimestampSerializer.dateStringToTimestamp`: an integer
/// (milliseconds since the epoch), or `yyyy-mm-dd[( |T)HH:MM[:SS[.fff]]][zone]` (UTC when no
/// zone is given).
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .map_err(|_| format!("Unable to make long (for date) from: '{text}'"));
    }
    // Cassandra 5.0's wording (`TimestampSerializer.dateStringToTimestamp`); dates keep the
    // older "Unable to coerce" message.
    parse_timestamp_string(text).ok_or_else(|| format!("Unable to parse a date/time from '{text}'"))
}

fn parse_timestamp_string(text: &str) -> Option<i64> {
    let mut c = Cursor {
        s: text.as_bytes(),
        pos: 0,
    };
    let (year, month, day) = parse_ymd(&mut c)?;
    let mut millis_of_day: i64 = 0;
    if c.peek() == Some(b' ') || c.peek() == Some(b'T') {
        let save = c.pos;
        c.pos += 1;
        if let Some((hour, _)) = c.digits(2, 2) {
            if !c.eat(b':') {
                return None;
            }
            let (minute, _) = c.digits(2, 2)?;
            let mut second = 0;
            let mut millis = 0;
            if c.eat(b':') {
                second = c.digits(2, 2)?.0;
                if c.eat(b'.') {
                    let (fraction, n) = c.digits(1, 9)?;
                    millis = match n {
                        1 => fraction * 100,
                        2 => fraction * 10,
                        3 => fraction,
                        _ => fraction / 10i64.pow(n as u32 - 3),
                    };
                }
            }
            // `SMART` resolution: 24:00 (with nothing after it) is the end of the day.
            let end_of_day = hour == 24 && minute == 0 && second == 0 && millis == 0;
            if (hour > 23 && !end_of_day) || minute > 59 || second > 59 {
                return None;
            }
            millis_of_day = ((hour * 60 + minute) * 60 + second) * 1000 + millis;
        } else {
            // A space before a zone name.
            c.pos = save;
        }
    }
    let offset_minutes = if c.done() { 0 } else { parse_zone(&mut c)? };
    if !c.done() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    days.checked_mul(MILLIS_PER_DAY)?
        .checked_add(millis_of_day)?
        .checked_sub(offset_minutes * 60_000)
}

/// A civil date: year, month, day.
type CivilDate = (i64, u32, u32);

/// A time of day: hours, minutes, seconds, milliseconds.
type TimeOfDay = (i64, i64, i64, i64);

/// Splits milliseconds since the epoch into a civil date and the time of day.
fn split_millis(millis: i64) -> (CivilDate, TimeOfDay) {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let ms = millis.rem_euclid(MILLIS_PER_DAY);
    (
        civil_from_days(days),
        (
            ms / 3_600_000,
            (ms / 60_000) % 60,
            (ms / 1000) % 60,
            ms % 1000,
        ),
    )
}

fn format_year(year: i64) -> String {
    if year < 0 {
        format!("-{:04}", -year)
    } else if year > 9999 {
        format!("+{year}")
    } else {
        format!("{year:04}")
    }
}

/// `yyyy-MM-dd HH:mm:ss.SSSZ` in UTC (the JSON form of a timestamp).
pub fn format_timestamp_json(millis: i64) -> String {
    let ((y, mo, d), (h, mi, s, ms)) = split_millis(millis);
    format!(
        "{}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}Z",
        format_year(y)
    )
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC (a timestamp cast to text).
pub fn format_timestamp_iso(millis: i64) -> String {
    let ((y, mo, d), (h, mi, s, ms)) = split_millis(millis);
    format!(
        "{}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z",
        format_year(y)
    )
}

/// Smallest day count accepted in the string form of a `date`.
const MIN_DATE_DAYS: i64 = -DATE_EPOCH_DAYS;
/// Largest day count accepted in the string form of a `date`.
const MAX_DATE_DAYS: i64 = u32::MAX as i64 - DATE_EPOCH_DAYS;

/// Parses a date as Cassandra's `SimpleDateSerializer.dateStringToDays`: an integer (the raw
/// unsigned day count, epoch at 2^31) or `yyyy-mm-dd`. Returns the serialized `u32`.
pub fn parse_date(text: &str) -> Result<u32, String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("Unable to make unsigned int (for date) from: '{text}'"));
    }
    let Some((y, m, d)) = parse_iso_local_date(text) else {
        return Err(format!(
            "Unable to coerce '{text}' to a formatted date (long)"
        ));
    };
    // The limits are printed as Cassandra prints them, a `ZonedDateTime` at midnight UTC.
    let days = days_from_civil(y, m, d);
    if days < MIN_DATE_DAYS {
        return Err(format!(
            "Input date {text} is less than min supported date {}T00:00Z",
            format_date_days(MIN_DATE_DAYS)
        ));
    }
    if days > MAX_DATE_DAYS {
        return Err(format!(
            "Input date {text} is greater than max supported date {}T00:00Z",
            format_date_days(MAX_DATE_DAYS)
        ));
    }
    Ok((days + DATE_EPOCH_DAYS) as u32)
}

/// `yyyy-MM-dd` of a day count since 1970-01-01.
pub fn format_date_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{}-{m:02}-{d:02}", format_year(y))
}

/// `yyyy-MM-dd` of a serialized date.
pub fn format_date(raw: u32) -> String {
    format_date_days(i64::from(raw) - DATE_EPOCH_DAYS)
}

/// The serialized date of the day containing `millis` (`fromTimeInMillis`: floor).
pub fn date_from_millis(millis: i64) -> Result<u32, String> {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    u32::try_from(days + DATE_EPOCH_DAYS).map_err(|_| {
        format!(
            "{} is not a valid date: it is outside the supported range",
            format_timestamp_iso(millis)
        )
    })
}

/// Milliseconds since the epoch at the start of a serialized date.
pub fn millis_from_date(raw: u32) -> i64 {
    (i64::from(raw) - DATE_EPOCH_DAYS) * MILLIS_PER_DAY
}

/// Parses a time as Cassandra's `TimeSerializer.timeStringToLong`: an integer (ns since
/// midnight) or `hh:mm:ss[.fffffffff]`.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .filter(|v| (0..NANOS_PER_DAY).contains(v))
            .ok_or_else(|| format!("Unable to make long (for time) from: '{text}'"));
    }
    parse_time_strictly(text.trim())
        .ok_or_else(|| format!("(TimeType) Unable to coerce '{text}' to a formatted time (long)"))
}

fn parse_time_strictly(s: &str) -> Option<i64> {
    let (hour, rest) = s.split_once(':')?;
    let (minute, rest) = rest.split_once(':')?;
    let (second, fraction) = match rest.split_once('.') {
        Some((sec, frac)) => (sec, Some(frac)),
        None => (rest, None),
    };
    let num = |t: &str| -> Option<i64> {
        (!t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (h, m, sec) = (num(hour)?, num(minute)?, num(second)?);
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            if f.is_empty() || f.len() > 9 {
                return None;
            }
            num(f)? * 10i64.pow(9 - f.len() as u32)
        }
    };
    Some(h * NANOS_PER_HOUR + m * NANOS_PER_MINUTE + sec * NANOS_PER_SECOND + nanos)
}

/// `HH:mm:ss.nnnnnnnnn` of nanoseconds since midnight.
pub fn format_time(nanos: i64) -> String {
    let n = nanos.rem_euclid(NANOS_PER_DAY);
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        n / NANOS_PER_HOUR,
        (n / NANOS_PER_MINUTE) % 60,
        (n / NANOS_PER_SECOND) % 60,
        n % NANOS_PER_SECOND
    )
}

/// A `duration` value: months, days and nanoseconds, all of one sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    /// Months.
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Nanoseconds.
    pub nanos: i64,
}

/// Builds a duration from its units, checking Cassandra's order and range rules.
struct DurationBuilder {
    months: i64,
    days: i64,
    nanos: i64,
    /// Index of the last unit added (units must decrease).
    last_unit: usize,
}

/// Units in the order they must appear, with their names in Cassandra's messages.
const UNIT_NAMES: [&str; 10] = [
    "years",
    "months",
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
    "nanoseconds",
];

impl DurationBuilder {
    fn new() -> Self {
        DurationBuilder {
            months: 0,
            days: 0,
            nanos: 0,
            last_unit: usize::MAX,
        }
    }

    fn add(&mut self, unit: usize, n: i64) -> Result<(), String> {
        if self.last_unit != usize::MAX && unit <= self.last_unit {
            let before = UNIT_NAMES.get(self.last_unit).copied().unwrap_or("");
            let current = UNIT_NAMES.get(unit).copied().unwrap_or("");
            return Err(format!(
                "Invalid duration. The {current} are specified after the {before}"
            ));
        }
        self.last_unit = unit;
        let too_big = |what: &str, max: i64| {
            format!("Invalid duration. The total number of {what} must be less or equal to {max}")
        };
        let max_int = i64::from(i32::MAX);
        match unit {
            0 => {
                self.months = n
                    .checked_mul(12)
                    .and_then(|v| v.checked_add(self.months))
                    .filter(|v| *v <= max_int)
                    .ok_or_else(|| too_big("months", max_int))?
            }
            1 => {
                self.months = self
                    .months
                    .checked_add(n)
                    .filter(|v| *v <= max_int)
                    .ok_or_else(|| too_big("months", max_int))?
            }
            2 | 3 => {
                let per = if unit == 2 { 7 } else { 1 };
                self.days = n
                    .checked_mul(per)
                    .and_then(|v| v.checked_add(self.days))
                    .filter(|v| *v <= max_int)
                    .ok_or_else(|| too_big("days", max_int))?
            }
            _ => {
                let per = match unit {
                    4 => NANOS_PER_HOUR,
                    5 => NANOS_PER_MINUTE,
                    6 => NANOS_PER_SECOND,
                    7 => NANOS_PER_MILLI,
                    8 => 1000,
                    _ => 1,
                };
                self.nanos = n
                    .checked_mul(per)
                    .and_then(|v| v.checked_add(self.nanos))
                    .ok_or_else(|| too_big("nanoseconds", i64::MAX))?
            }
        }
        Ok(())
    }

    fn build(self, negative: bool) -> Duration {
        let sign = if negative { -1 } else { 1 };
        Duration {
            months: (self.months * sign) as i32,
            days: (self.days * sign) as i32,
            nanos: self.nanos * sign,
        }
    }
}

/// The unit index of a standard-format unit suffix.
fn standard_unit(unit: &str) -> Option<usize> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "y" => 0,
        "mo" => 1,
        "w" => 2,
        "d" => 3,
        "h" => 4,
        "m" => 5,
        "s" => 6,
        "ms" => 7,
        "us" | "µs" => 8,
        "ns" => 9,
        _ => return None,
    })
}

/// Parses a duration as Cassandra's `Duration.from`: `1y2mo3w4d5h6m7s8ms9us10ns` (any
/// subset, in that order), ISO 8601 `P1Y2M3DT4H5M6S`, `P2W`, or `P0001-02-03T04:05:06`, each
/// optionally preceded by `-`.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let negative = input.starts_with('-');
    let source = if negative { &input[1..] } else { input };
    let unable = || format!("Unable to convert '{input}' to a duration");
    let mut b = DurationBuilder::new();
    if let Some(iso) = source.strip_prefix('P') {
        if let Some(weeks) = iso.strip_suffix('W') {
            let n = parse_count(weeks).ok_or_else(unable)?;
            b.add(2, n)?;
            return Ok(b.build(negative));
        }
        if iso.contains('-') {
            return parse_iso_alternative(iso, negative).ok_or_else(unable);
        }
        let (date_part, time_part) = match iso.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (iso, None),
        };
        let mut any = false;
        for (part, units) in [(date_part, "YMD"), (time_part.unwrap_or(""), "HMS")] {
            let mut rest = part;
            let mut allowed = units;
            while !rest.is_empty() {
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .ok_or_else(unable)?;
                let n = parse_count(&rest[..end]).ok_or_else(unable)?;
                let unit = rest[end..].chars().next().ok_or_else(unable)?;
                let pos = allowed.find(unit).ok_or_else(unable)?;
                allowed = &allowed[pos + 1..];
                let index = match (units, unit) {
                    ("YMD", 'Y') => 0,
                    ("YMD", 'M') => 1,
                    ("YMD", 'D') => 3,
                    ("HMS", 'H') => 4,
                    ("HMS", 'M') => 5,
                    _ => 6,
                };
                b.add(index, n)?;
                any = true;
                rest = &rest[end + 1..];
            }
        }
        if !any || time_part == Some("") {
            return Err(unable());
        }
        return Ok(b.build(negative));
    }
    let mut rest = source;
    if rest.is_empty() {
        return Err(unable());
    }
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(unable)?;
        let n = parse_count(&rest[..end]).ok_or_else(unable)?;
        let after = &rest[end..];
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let unit = standard_unit(&after[..unit_len]).ok_or_else(unable)?;
        b.add(unit, n)?;
        rest = &after[unit_len..];
    }
    Ok(b.build(negative))
}

fn parse_count(digits: &str) -> Option<i64> {
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn parse_iso_alternative(iso: &str, negative: bool) -> Option<Duration> {
    // YYYY-MM-DDThh:mm:ss
    let b = iso.as_bytes();
    if b.len() != 19
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let field = |from: usize, to: usize| parse_count(iso.get(from..to)?);
    let mut builder = DurationBuilder::new();
    builder.add(0, field(0, 4)?).ok()?;
    builder.add(1, field(5, 7)?).ok()?;
    builder.add(3, field(8, 10)?).ok()?;
    builder.add(4, field(11, 13)?).ok()?;
    builder.add(5, field(14, 16)?).ok()?;
    builder.add(6, field(17, 19)?).ok()?;
    Some(builder.build(negative))
}

/// Cassandra's `Duration.toString()`: `1y2mo3d4h5m6s7ms8us9ns` with zero units omitted,
/// `-` in front of negative durations, and the empty string for a zero duration.
pub fn format_duration(d: &Duration) -> String {
    let mut out = String::new();
    if d.months < 0 || d.days < 0 || d.nanos < 0 {
        out.push('-');
    }
    fn append(out: &mut String, dividend: u64, divisor: u64, unit: &str) -> u64 {
        if dividend == 0 || dividend < divisor {
            return dividend;
        }
        out.push_str(&(dividend / divisor).to_string());
        out.push_str(unit);
        dividend % divisor
    }
    let months = u64::from(d.months.unsigned_abs());
    let remainder = append(&mut out, months, 12, "y");
    append(&mut out, remainder, 1, "mo");
    append(&mut out, u64::from(d.days.unsigned_abs()), 1, "d");
    if d.nanos != 0 {
        let n = d.nanos.unsigned_abs();
        let r = append(&mut out, n, NANOS_PER_HOUR as u64, "h");
        let r = append(&mut out, r, NANOS_PER_MINUTE as u64, "m");
        let r = append(&mut out, r, NANOS_PER_SECOND as u64, "s");
        let r = append(&mut out, r, NANOS_PER_MILLI as u64, "ms");
        let r = append(&mut out, r, 1000, "us");
        append(&mut out, r, 1, "ns");
    }
    out
}

/// Adds `sign × duration` to a timestamp (Cassandra's `Duration.addTo` / `substractFrom`):
/// months are added on the calendar (clamping the day of month), then days, then whole
/// milliseconds of the nanoseconds.
pub fn add_duration_to_millis(millis: i64, d: &Duration, sign: i64) -> Result<i64, String> {
    let overflow = || "timestamp overflow".to_string();
    let months = i64::from(d.months) * sign;
    let days = i64::from(d.days) * sign;
    let nanos_millis = (d.nanos / NANOS_PER_MILLI) * sign;
    let mut t = millis;
    if months != 0 {
        let day_index = t.div_euclid(MILLIS_PER_DAY);
        let ms_of_day = t.rem_euclid(MILLIS_PER_DAY);
        let (y, m, dd) = civil_from_days(day_index);
        let total = y
            .checked_mul(12)
            .and_then(|v| v.checked_add(i64::from(m) - 1 + months))
            .ok_or_else(overflow)?;
        let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let nd = dd.min(days_in_month(ny, nm));
        t = days_from_civil(ny, nm, nd)
            .checked_mul(MILLIS_PER_DAY)
            .and_then(|v| v.checked_add(ms_of_day))
            .ok_or_else(overflow)?;
    }
    t.checked_add(days.checked_mul(MILLIS_PER_DAY).ok_or_else(overflow)?)
        .and_then(|v| v.checked_add(nanos_millis))
        .ok_or_else(overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-1_000_000i64, -719_468, -1, 0, 1, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2024, 1, 1), 19_723);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn timestamps() {
        let base = 19_723 * MILLIS_PER_DAY;
        let cases = [
            ("2024-01-01", Ok(base)),
            ("2024-01-01 10:00", Ok(base + 36_000_000)),
            ("2024-01-01 10:00:00+0000", Ok(base + 36_000_000)),
            ("2024-01-01T10:00:00.123Z", Ok(base + 36_000_123)),
            ("2024-01-01T10:00:00.1+01:00", Ok(base + 32_400_100)),
            ("2024-01-01 10:00:00-0230", Ok(base + 45_000_000)),
            ("2024-01-01 10:00:00 UTC", Ok(base + 36_000_000)),
            ("2024-01-01+0100", Ok(base - 3_600_000)),
            ("1700000000000", Ok(1_700_000_000_000)),
            ("-5", Ok(-5)),
            // java.time's SMART resolution: the last day of the month, the end of the day.
            ("2024-02-30", Ok(base + 59 * MILLIS_PER_DAY)),
            (
                "2023-02-31 10:00",
                Ok(base - 307 * MILLIS_PER_DAY + 36_000_000),
            ),
            ("2024-01-01 24:00", Ok(base + MILLIS_PER_DAY)),
            ("2024-01-01T24:00:00.000Z", Ok(base + MILLIS_PER_DAY)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_timestamp(input), expected, "{input}");
        }
        for bad in [
            "2024-13-01",
            "2024-02-32",
            "2024-02-00",
            "2024-01-01 24:01",
            "2024-01-01 24:00:00.5",
            "abc",
            "2024-01-01 25:00",
            "2024-01-01X",
            "",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                Err(format!("Unable to parse a date/time from '{bad}'")),
                "{bad}"
            );
        }
        assert_eq!(
            parse_timestamp("99999999999999999999"),
            Err("Unable to make long (for date) from: '99999999999999999999'".into())
        );
        assert_eq!(
            format_timestamp_json(base + 36_000_123),
            "2024-01-01 10:00:00.123Z"
        );
        assert_eq!(format_timestamp_iso(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Ok(1 << 31));
        assert_eq!(parse_date("2024-01-01"), Ok((1u32 << 31) + 19_723));
        assert_eq!(parse_date("0"), Ok(0));
        assert_eq!(parse_date("4294967295"), Ok(u32::MAX));
        assert_eq!(
            parse_date("4294967296"),
            Err("Unable to make unsigned int (for date) from: '4294967296'".into())
        );
        assert_eq!(
            parse_date("2024-1-x"),
            Err("Unable to coerce '2024-1-x' to a formatted date (long)".into())
        );
        assert!(parse_date("-9999999-01-01").is_err());
        // ISO_LOCAL_DATE, strictly: 4-digit years unsigned, longer ones with a sign, two-digit
        // month and day, real calendar days.
        assert_eq!(parse_date("-5877641-06-23"), Ok(0));
        assert_eq!(parse_date("+5881580-07-11"), Ok(u32::MAX));
        assert_eq!(
            parse_date("-0001-01-01").map(format_date),
            Ok("-0001-01-01".into())
        );
        for bad in [
            "5881580-07-11",
            "+2024-01-01",
            "-0000-01-01",
            "024-01-01",
            "2024-1-01",
            "2024-01-1",
            "2024-02-30",
            "2023-02-29",
            "2024-00-10",
            "+10000000000-01-01",
            "2024-01-01 ",
        ] {
            assert_eq!(
                parse_date(bad),
                Err(format!(
                    "Unable to coerce '{bad}' to a formatted date (long)"
                )),
                "{bad}"
            );
        }
        assert_eq!(
            parse_date("+5881580-07-12"),
            Err("Input date +5881580-07-12 is greater than max supported date +5881580-07-11T00:00Z".into())
        );
        assert_eq!(format_date((1 << 31) + 19_723), "2024-01-01");
        assert_eq!(format_date(0), "-5877641-06-23");
        assert_eq!(date_from_millis(-1), Ok((1u32 << 31) - 1));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("10:00:00.123456789"), Ok(36_000_123_456_789));
        assert_eq!(parse_time("00:00:01.5"), Ok(1_500_000_000));
        assert_eq!(parse_time("23:59:59"), Ok(86_399_000_000_000));
        assert_eq!(parse_time("42"), Ok(42));
        assert_eq!(
            parse_time("86400000000000"),
            Err("Unable to make long (for time) from: '86400000000000'".into())
        );
        assert_eq!(
            parse_time("24:00:00"),
            Err("(TimeType) Unable to coerce '24:00:00' to a formatted time (long)".into())
        );
        assert!(parse_time("10:00").is_err());
        assert!(parse_time("10:00:00.").is_err());
        assert!(parse_time("10:00:00.1234567890").is_err());
        assert_eq!(format_time(36_000_123_456_789), "10:00:00.123456789");
    }

    #[test]
    fn durations() {
        let d = |months, days, nanos| Duration {
            months,
            days,
            nanos,
        };
        let cases = [
            ("1h30m", d(0, 0, 90 * NANOS_PER_MINUTE)),
            ("1y2mo", d(14, 0, 0)),
            ("2w1d", d(0, 15, 0)),
            ("-3d", d(0, -3, 0)),
            ("1ms2us3ns", d(0, 0, 1_002_003)),
            ("5µs", d(0, 0, 5000)),
            ("1MO", d(1, 0, 0)),
            (
                "P1Y2M3DT4H5M6S",
                d(
                    14,
                    3,
                    4 * NANOS_PER_HOUR + 5 * NANOS_PER_MINUTE + 6 * NANOS_PER_SECOND,
                ),
            ),
            ("P2W", d(0, 14, 0)),
            ("PT1M", d(0, 0, NANOS_PER_MINUTE)),
            ("-P1D", d(0, -1, 0)),
            (
                "P0001-02-03T04:05:06",
                d(
                    14,
                    3,
                    4 * NANOS_PER_HOUR + 5 * NANOS_PER_MINUTE + 6 * NANOS_PER_SECOND,
                ),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration(input), Ok(expected), "{input}");
        }
        for bad in ["", "5", "1x", "P", "PT", "P1H", "h1"] {
            assert_eq!(
                parse_duration(bad),
                Err(format!("Unable to convert '{bad}' to a duration")),
                "{bad}"
            );
        }
        assert_eq!(
            parse_duration("1m1h"),
            Err("Invalid duration. The hours are specified after the minutes".into())
        );
        assert!(parse_duration("3000000000d").is_err());
        assert_eq!(
            format_duration(&d(14, 3, 90 * NANOS_PER_MINUTE + 7)),
            "1y2mo3d1h30m7ns"
        );
        assert_eq!(format_duration(&d(0, -1, 0)), "-1d");
        assert_eq!(format_duration(&d(0, 0, 0)), "");
    }

    #[test]
    fn duration_arithmetic() {
        let jan31 = days_from_civil(2024, 1, 31) * MILLIS_PER_DAY;
        let month = Duration {
            months: 1,
            days: 0,
            nanos: 0,
        };
        assert_eq!(
            add_duration_to_millis(jan31, &month, 1),
            Ok(days_from_civil(2024, 2, 29) * MILLIS_PER_DAY)
        );
        assert_eq!(
            add_duration_to_millis(jan31, &month, -1),
            Ok(days_from_civil(2023, 12, 31) * MILLIS_PER_DAY)
        );
        let hour = Duration {
            months: 0,
            days: 1,
            nanos: NANOS_PER_HOUR + 999,
        };
        assert_eq!(
            add_duration_to_millis(0, &hour, 1),
            Ok(MILLIS_PER_DAY + 3_600_000)
        );
        assert!(add_duration_to_millis(i64::MAX, &hour, 1).is_err());
    }
}
