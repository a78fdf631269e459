// The playground's money helpers, pure functions: amounts read from the API's decimal strings
// into whole micro-dollars and written back, chart scales, the days of a spend chart, the
// estimate's words, and which setting a server problem names.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { problemField } from "../../pier/web/js/billingform.js";
import { barPercent, fillDays, niceCeiling } from "../../pier/web/js/chart.js";
import { estimateText, priceText } from "../../pier/web/js/estimate.js";
import { limitShare, toMicros, usd, usdText } from "../../pier/web/js/money.js";

describe("amounts", () => {
  test("decimal strings become whole micro-dollars without floating point", () => {
    assert.equal(toMicros("1.50"), 1_500_000);
    assert.equal(toMicros("0.000120"), 120);
    assert.equal(toMicros("-0.25"), -250_000);
    assert.equal(toMicros("12"), 12_000_000);
    assert.equal(toMicros(".5"), 500_000);
    assert.equal(toMicros("0.1234567"), 123_456); // past six decimals is cut
    assert.equal(toMicros(0.1), 100_000);
    // 0.1 + 0.2 in floats is 0.30000000000000004; in micros it is exact.
    assert.equal(toMicros("0.1") + toMicros("0.2"), toMicros("0.3"));
  });

  test("what is not an amount is null", () => {
    for (const value of [null, undefined, "", "abc", "1.2.3", "$1", "-", "."]) assert.equal(toMicros(value), null, String(value));
  });

  test("written with two to six decimals, a minus sign and thousands", () => {
    assert.equal(usdText(0), "$0.00");
    assert.equal(usdText(1_500_000), "$1.50");
    assert.equal(usdText(120), "$0.00012");
    assert.equal(usdText(1), "$0.000001");
    assert.equal(usdText(-250_000), "−$0.25");
    assert.equal(usdText(1_234_567_890_000), "$1,234,567.89");
    assert.equal(usdText(250_000, { sign: true }), "+$0.25");
    assert.equal(usdText(0, { sign: true }), "$0.00");
    // At a glance, a dollar or more is rounded to the cent; less stays exact.
    assert.equal(usdText(24_249_582, { cents: true }), "$24.25");
    assert.equal(usdText(-1_004_999, { cents: true }), "−$1.00");
    assert.equal(usdText(750_418, { cents: true }), "$0.750418");
    assert.equal(usdText(null), "—");
    assert.equal(usd("0.000120"), "$0.00012");
    assert.equal(usd(null), "—");
  });

  test("the month's spend against its limit", () => {
    assert.equal(limitShare(100, null), null);
    assert.deepEqual(limitShare(250_000, 10_000_000), { percent: 2.5, level: "ok" });
    assert.deepEqual(limitShare(8_000_000, 10_000_000), { percent: 80, level: "warn" });
    assert.deepEqual(limitShare(12_000_000, 10_000_000), { percent: 100, level: "over" });
    assert.deepEqual(limitShare(0, 0), { percent: 100, level: "over" });
  });
});

describe("charts", () => {
  test("the scale tops out at a round amount", () => {
    assert.equal(niceCeiling(0), 0);
    assert.equal(niceCeiling(1), 1);
    assert.equal(niceCeiling(7), 10);
    assert.equal(niceCeiling(120), 200);
    assert.equal(niceCeiling(250_000), 250_000);
    assert.equal(niceCeiling(260_000), 500_000);
    assert.equal(niceCeiling(1_500_001), 2_000_000);
    assert.equal(niceCeiling(4_000_000), 5_000_000);
    assert.equal(niceCeiling(9_000_000), 10_000_000);
  });

  test("bars are a share of the scale, and a tiny spend still shows", () => {
    assert.equal(barPercent(0, 100), 0);
    assert.equal(barPercent(50, 100), 50);
    assert.equal(barPercent(1, 1_000_000), 1);
    assert.equal(barPercent(200, 100), 100);
    assert.equal(barPercent(5, 0), 0);
  });

  test("thirty days end on the last reported day, the missing ones at zero", () => {
    const days = fillDays([{ date: "2026-11-28", spent_usd: "0.25" }, { date: "2026-11-03", spent_usd: "1" }], 30, "2026-11-28");
    assert.equal(days.length, 30);
    assert.deepEqual(days[0], { date: "2026-10-30", micros: 0 });
    assert.deepEqual(days[29], { date: "2026-11-28", micros: 250_000 });
    assert.equal(days.find((d) => d.date === "2026-11-03").micros, 1_000_000);
    assert.equal(days.reduce((n, d) => n + d.micros, 0), 1_250_000);
    // Across a month's end and with nothing reported: the days up to today.
    const empty = fillDays([], 3, "2026-03-01");
    assert.deepEqual(empty.map((d) => d.date), ["2026-02-27", "2026-02-28", "2026-03-01"]);
  });
});

describe("estimate", () => {
  test("free, per run, and from recent runs", () => {
    assert.equal(estimateText({ basis: "free", estimate_usd: "0.00" }).text, "Free");
    const perRun = estimateText({ basis: "per_run", estimate_usd: "0.25", price: { model: "pier/echo", per_run_usd: "0.25" } });
    assert.equal(perRun.text, "$0.25 per run");
    assert.match(perRun.title, /\$0\.25 per run/);
    const perSecond = estimateText({ basis: "per_second", estimate_usd: "0.0012", hold_usd: "0.06", typical_run_seconds: 12, price: { hardware: "cpu", per_second_usd: "0.0001" } });
    assert.equal(perSecond.text, "≈ $0.0012");
    assert.match(perSecond.title, /recent runs of this version \(about 12 s each\)/);
    assert.match(estimateText({ basis: "per_second", estimate_usd: "0.06", typical_run_seconds: null }).title, /before any run/);
    assert.match(perSecond.title, /\$0\.0001 per second of cpu/);
    assert.match(perSecond.title, /\$0\.06 is held/);
    assert.equal(estimateText(null), null);
    assert.equal(estimateText({ basis: "per_second", estimate_usd: null }), null);
    const unmeasured = estimateText({ basis: "per_second", estimate_usd: null, hold_usd: "0.006", price: { hardware: "cpu", per_second_usd: "0.0001" } });
    assert.equal(unmeasured.text, "$0.0001 per second of cpu");
    assert.match(unmeasured.title, /No run of this version has been measured yet/);
  });

  test("prices in words", () => {
    assert.equal(priceText({ model: "a/b", per_unit_usd: "0.002", unit: "image" }), "$0.002 per image");
    assert.equal(priceText({ hardware: "gpu-a100", per_second_usd: "0.0014" }), "$0.0014 per second of gpu-a100");
    assert.equal(priceText({}), "");
  });
});

describe("settings problems", () => {
  test("the field a problem names", () => {
    const listed = { detail: "- monthly_limit_usd: must not be negative\n", invalid_fields: [{ field: "monthly_limit_usd", description: "must not be negative" }] };
    assert.deepEqual(problemField(listed), { name: "monthly_limit_usd", message: "must not be negative" });
    assert.deepEqual(problemField({ detail: "low_balance_alert_usd is not an amount\n" }), { name: "low_balance_alert_usd", message: "low_balance_alert_usd is not an amount" });
    assert.equal(problemField({ detail: "Something else" }), null);
    assert.equal(problemField(null), null);
  });
});
