// Amounts of money as the API sends them (decimal strings of dollars, `*_usd`), read into
// whole micro-dollars so that sums and comparisons never go through floating point, and
// written back for people: "$1.50", "$0.00012", "−$0.25".

const MICROS = 1_000_000;

/**
 * Whole micro-dollars from a decimal string or number ("1.5" → 1500000); null when the
 * value is missing or not an amount. Digits past the sixth decimal are cut.
 */
export function toMicros(value) {
  if (value === null || value === undefined || value === "") return null;
  const text = typeof value === "number" ? value.toFixed(6) : String(value).trim();
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === "" && !match[3])) return null;
  const whole = Number(match[2] || "0");
  const fraction = Number(((match[3] || "") + "000000").slice(0, 6));
  const micros = whole * MICROS + fraction;
  return match[1] === "-" ? -micros : micros;
}

/**
 * "$1,234.50" from micro-dollars: at least two decimals, more only where the amount has
 * them (up to six, so a fraction of a cent still shows). `sign` puts "+" on gains;
 * losses always carry a minus sign. `cents` rounds amounts of a dollar or more to the cent
 * (for figures at a glance; the ledger shows every amount exactly).
 */
export function usdText(micros, { sign = false, cents = false } = {}) {
  if (micros === null || micros === undefined || Number.isNaN(micros)) return "—";
  const negative = micros < 0;
  let abs = Math.abs(Math.trunc(micros));
  if (cents && abs >= MICROS) abs = Math.round(abs / 10_000) * 10_000;
  const whole = Math.floor(abs / MICROS).toLocaleString("en-US");
  let fraction = String(abs % MICROS).padStart(6, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  const prefix = negative ? "−" : sign && abs > 0 ? "+" : "";
  return `${prefix}$${whole}.${fraction}`;
}

/** `usdText` straight from an API amount; "—" when there is none. */
export function usd(value, options) {
  return usdText(toMicros(value), options);
}

/**
 * How far `spent` has gone into `limit` (both micro-dollars), 0–100 for the bar, and its
 * level: "ok", "warn" from 80 %, "over" at 100 %. Null without a limit.
 */
export function limitShare(spent, limit) {
  if (limit === null || limit === undefined) return null;
  if (limit <= 0) return { percent: 100, level: spent > 0 || limit === 0 ? "over" : "ok" };
  const exact = (Math.max(0, spent) * 100) / limit;
  const level = exact >= 100 ? "over" : exact >= 80 ? "warn" : "ok";
  return { percent: Math.min(100, exact), level };
}
