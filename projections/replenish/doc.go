// Package replenish is the replenishment read model (补货提醒, the rice shop
// that calls before a family's bag runs out [003 §1]): per customer and
// item category, when the customer is expected to buy that category again.
//
// # Categories
//
// A purchase's categories come from PurchaseMade.items: an item's category
// is its text before the first ':' when it has one ("rice:jasmine 10kg" →
// "rice"), else the whole item, lower-cased with runs of white space
// collapsed to one space ("Rice 10kg" → "rice 10kg"). A purchase without
// items has no category and is not counted. Several purchases of one
// category on one UTC day count as one purchase day, as the churn model
// counts purchase days.
//
// # The estimator: empirical-Bayes shrinkage of the mean interval
//
// A customer's purchases of a category are a renewal process whose
// inter-purchase intervals are exponential with the customer's own rate λ;
// across the category's customers λ follows a gamma distribution with
// shape r and rate α (the gamma–Poisson / "exponential–gamma" model of
// repeat buying: Ehrenberg 1959, "The pattern of consumer purchases",
// Applied Statistics 8(1); Morrison & Schmittlein 1988, "Generalizing the
// NBD model for customer purchases", JBES 6(2); the same gamma
// heterogeneity as BG/NBD's purchase process, Fader, Hardie & Lee 2005).
// A customer with n intervals spanning S days (first to last purchase day)
// has the posterior Gamma(r+n, α+S), and the posterior mean of the mean
// interval 1/λ is
//
//	interval = (α + S) / (r + n − 1)
//	         = Z · S/n + (1 − Z) · α/(r − 1),   Z = n / (n + r − 1)
//
// — the customer's own mean interval S/n shrunk towards the category's
// population mean interval α/(r−1), with the credibility weight Z growing
// with the number of intervals (Bühlmann credibility; Klugman, Panjer &
// Willmot, "Loss Models", ch. on greatest-accuracy credibility). A customer
// with one purchase day gets the population interval (Z = 0). The next
// purchase is expected at the last purchase day + interval (in the past
// when the customer is overdue). Confidence is Z: the share of the
// interval that comes from the customer's own history.
//
// r and α are the category's prior, fitted by maximum likelihood (empirical
// Bayes) over the customers with at least one interval in the category,
// from the marginal likelihood of their intervals,
//
//	L_i = Γ(r+n_i)/Γ(r) · α^r / (α+S_i)^(r+n_i),
//
// with r kept above 1 so the population mean interval exists. A category
// with fewer than Config.MinCustomers such customers borrows the prior
// fitted over every category's histories pooled (Prediction.PriorScope
// says which); with fewer than that in all, no prediction is made.
//
// # Validation
//
// On the CDNOW sample (one category, CDs; calibrated to 1997-09-30, next
// purchase in the holdout to 1998-06-30) the estimator's mean absolute
// error beats both the population mean interval and the customer's last
// interval (cdnow_test.go; the figures are in BENCHMARKS.md).
package replenish
