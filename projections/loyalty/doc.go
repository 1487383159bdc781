// Package loyalty scores each customer's loyalty from 0 to 100 and gives
// them a level — NONE, REPEAT, LOYAL, ADVOCATE — from their events
// (DESIGN §5). FORMULA.md, next to this file, is the formula with three
// worked examples (the tests in loyalty_test.go).
//
// # Formula
//
// The score at an instant t is the sum of these components, rounded half
// away from zero and clamped to 0–100 (the positive ones add up to 100):
//
//	component    input at t                                    points
//	recency      d = days since the latest purchase             20 × (1 − d/365), ≥ 0
//	frequency    f = distinct UTC purchase days, last 365 days  5 × min(f, 5)
//	monetary     s = Σ amount / reference(currency)             min(15, 5 × log2(1 + s))
//	                 × 2^(−age / 365 days)
//	tenure       y = years (365 days) since registration        min(10, 2 × y)
//	referrals    n = ReferralMade events                        min(10, 5 × n)
//	CSAT         a = average survey score 1–5                   5 × (a − 3); 0 without surveys
//	recovery     k = complaints resolved SATISFIED              min(10, 5 × k)
//	grievances   g = lifecycle.Grievances.Count()               max(−30, −10 × g)
//
// Money is never added across currencies: each purchase is divided by
// its own currency's reference (Config.Reference, minor units; default
// CNY 100000), so s = 1 is a typical year's spend, and it fades with a
// one-year half-life. The recovery bonus is the service-recovery paradox:
// a complaint resolved SATISFIED leaves the customer more loyal than none.
//
// Levels: NONE with fewer than 2 purchase days ever; REPEAT with 2 or
// more; LOYAL with ≥ Config.LoyalPurchaseDays (5) purchase days in the
// last 365, a score ≥ Config.LoyalMinScore (50) and no open grievance;
// ADVOCATE when LOYAL with at least one referral.
//
// # State
//
// State folds a customer's facts into about 150 bytes (a 384-day purchase
// bitmap, the decayed spend, counters, the grievances); State.At(t)
// scores it. Rules.ScoreAt is the as-of path (fold the history, score at
// t) and Projector the live read model with a score index; both use the
// same State, so they agree.
package loyalty
