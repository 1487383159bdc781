// Package lifecycle derives each customer's lifecycle stage — NEW,
// ACTIVE, LOYAL, GRUMBLING, COMPLAINING, SILENT, DORMANT, LOST — from
// their events (DESIGN §4). The stage is a projection, never a stored
// fact: StageAt(history, t, policy, churn) is the one pure function behind
// both the live read model (Projector) and as-of queries, and it is
// literally a fold of the compact State over the history (Apply each fact,
// then Advance to t), so the two cannot disagree.
//
// # Rules
//
// "Inbound" is anything the customer initiated: an INBOUND ContactLogged,
// GrumbleVoiced, ComplaintFiled, SatisfactionRecorded, PurchaseMade,
// ReferralMade. Silence counts from the latest of them (or from
// registration). CustomerWonBack also restarts the silence clock.
//
// A grievance is an open complaint, a complaint closed UNSATISFIED or
// declined and not settled since, or an unanswered grumble; see
// Grievances for exactly what opens, answers and settles each.
//
// The stage at t, in order of precedence:
//
//	none         before CustomerRegistered
//	LOST         after CustomerMarkedLost, or once entered by time, until an
//	             inbound fact (a win-back) or CustomerWonBack
//	SILENT       a grievance and no inbound for SilentAfterDays (30);
//	             LOST after LostAfterSilentDays (60) more of it
//	COMPLAINING  an open complaint
//	GRUMBLING    another grievance (unanswered grumble, unsettled complaint)
//	LOST         no grievance, quiet for SilentAfterDays and P(alive) < 0.05
//	DORMANT      no grievance, quiet for SilentAfterDays and P(alive) < 0.3
//	NEW          fewer than NewBelowPurchases (2) purchases
//	LOYAL        ≥ LoyalPurchaseDays (5) distinct UTC purchase days in the
//	             last LoyalWindowDays (365)
//	ACTIVE       otherwise
//
// DORMANT (and LOST by churn) needs a ChurnView fitted on at least
// DormantMinFitted (500) customers with purchases, and — our addition to
// DESIGN §4 — the same quiet window as SILENT: P(alive) only moves with
// purchases, so without it an inbound contact could not leave DORMANT. An
// inbound contact leaves DORMANT; the customer returns to it after another
// quiet window if P(alive) is still low.
//
// An inbound fact therefore leaves SILENT, DORMANT and LOST (from LOST it
// is a win-back, and the reason says so); a customer who still has an open
// complaint returns to COMPLAINING, one with another grievance to
// GRUMBLING. CustomerErased changes nothing: erased customers keep their
// stage history (reasons never contain personal data).
//
// # Time
//
// Time-driven changes are dated at the exact instant a threshold is
// crossed (last inbound + 30 days, the churn model's FallsBelow instant,
// midnight UTC when a purchase day leaves the LOYAL window), not when
// somebody looks. A fact at the same instant as a deadline comes after it.
// Facts are taken in stream order; one dated before the state's clock (a
// backfilled import) is treated as happening at the clock, which never
// runs backwards. StageAt ignores facts dated after t.
//
// # Live read model
//
// Projector keeps one State per customer (about 300 bytes, no history),
// customers by stage, and a min-heap of next deadlines that AdvanceTo
// drains in time order; OnChange hears every StageChange. A customer's
// timeline (every StageChange with its reason) comes from StageAt over
// their stream.
package lifecycle
