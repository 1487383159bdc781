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
// inter-purchase intervals are Gamma(shape k, rate λ) — k = 1 is the
// exponential (Poisson) case of the NBD, a larger k the regular rhythm of
// a household that eats a bag of rice a month (the Erlang inter-purchase
// times of Chatfield & Goodhardt 1973, "A consumer purchasing model with
// Erlang inter-purchase times", JASA 68(344)) — and across the category's
// customers the rate λ follows a gamma distribution with shape r and rate α
// (the gamma heterogeneity of the NBD, Ehrenberg 1959, "The pattern of
// consumer purchases", Applied Statistics 8(1), and of BG/NBD, Fader,
// Hardie & Lee 2005). The gamma prior is conjugate: a customer with n
// intervals spanning S days (first to last purchase day) has the posterior
// Gamma(r + kn, α + S) for λ, and the posterior mean of the mean interval
// k/λ is
//
//	interval = k (α + S) / (r + kn − 1)
//	         = Z · S/n + (1 − Z) · kα/(r − 1),   Z = kn / (kn + r − 1)
//
// — the customer's own mean interval S/n shrunk towards the category's
// population mean interval kα/(r−1), with the credibility weight Z growing
// with the number of intervals and with the category's regularity k
// (Bühlmann credibility, which is exact here: Jewell 1974, "Credible means
// are exact Bayesian for exponential families", ASTIN Bulletin 8(1)). A
// customer with one purchase day gets the population interval (Z = 0). The
// next purchase is expected at the last purchase day + interval (in the
// past when the customer is overdue). Confidence is Z: the share of the
// interval that comes from the customer's own history.
//
// r, α and k are the category's prior, fitted by maximum likelihood
// (empirical Bayes) over the customers with at least one interval in the
// category, from the marginal likelihood of their intervals x_1…x_n,
//
//	L_i = Π x_j^(k−1)/Γ(k) · Γ(r+kn)/Γ(r) · α^r / (α+S)^(r+kn),
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
