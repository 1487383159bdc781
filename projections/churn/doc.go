// Package churn implements the BG/NBD ("beta-geometric / negative
// binomial distribution") model of Fader, Hardie & Lee (2005),
// "Counting your customers the easy way: an alternative to the
// Pareto/NBD model", Marketing Science 24(2): maximum-likelihood fitting
// over all customers, the probability that a customer is still alive,
// and the expected number of purchases in a future horizon.
//
// It is pure math on plain inputs: it knows nothing of events or
// projections. Callers build a Summary per customer (SummaryFromPurchases
// or SummaryFromDays), call Fit on demand or on a schedule, and evaluate
// the Model per customer.
//
// # Model
//
// While alive, a customer buys at the times of a Poisson process with
// rate λ; after each repeat purchase they drop out for good with
// probability p. Across customers λ ~ Gamma(shape r, rate α) and
// p ~ Beta(a, b). A customer's history from their first purchase to the
// as-of date is summarised by
//
//	x    the number of repeat purchases (distinct purchase days after the
//	     first purchase day — several purchases on one day count once, as
//	     in the paper's CDNOW data),
//	t_x  the time of the last purchase, counted from the first,
//	T    the time from the first purchase to the as-of date.
//
// # Units
//
// t_x and T are in one Unit, Day or Week (7 days); α and forecast
// horizons are in the same unit (α is a rate parameter: switching from
// weeks to days multiplies α by 7 and leaves r, a, b unchanged). The
// CDNOW reference values are in weeks. Customers without any purchase
// have no Summary and must be left out of the fit: the model starts at
// the first purchase.
//
// # Likelihood
//
// The log-likelihood of one customer (FHL 2005 eq. 6), in the form of
// Hardie's note 027 that avoids the overflow ("#NUM!") of the printed
// form for large x:
//
//	LL = ln A1 + ln A2 + ln(e^A3 + δ(x>0)·e^A4)
//	ln A1 = lnΓ(r+x) − lnΓ(r) + r·ln α
//	ln A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x)
//	A3    = −(r+x)·ln(α+T)
//	A4    = ln a − ln(b+x−1) − (r+x)·ln(α+t_x)
//
// where the last logarithm is evaluated as a log-sum-exp (the larger of
// A3, A4 factored out), so no intermediate leaves the floating-point
// range. Fit maximises the sum over customers. Identical (x, t_x, T)
// triples are aggregated with weights first, and the terms that depend
// only on x, only on T or only on t_x are computed once per distinct
// value, so one evaluation costs one exp and one log1p per distinct
// triple. The optimiser is BFGS over (ln r, ln α, ln a, ln b) with the
// analytic gradient (digamma terms and the log-sum-exp weights) and a
// backtracking Armijo line search; it stops when every component of
// the gradient of the mean log-likelihood is below
// FitOptions.GradientTolerance. It is deterministic: the input order and
// the number of workers do not change the result.
//
// # P(alive)
//
// (FHL 2005 eq. 11)
//
//	P(alive | x, t_x, T) = 1 / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x))
//
// computed as a logistic function of the log of the second term. A
// customer with x = 0 has not had a chance to drop out: P(alive) = 1.
//
// # Expected purchases
//
// (FHL 2005 eq. 10) With z = t/(α+T+t),
//
//	E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1)
//	    · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)]
//	    · P(alive | x, t_x, T).
//
// Printed this way, the 2F1 series has huge terms for large x that the
// tiny power must cancel, and the bracket loses all digits as a → 1.
// Euler's transformation 2F1(A1, B1; C; z) = (1−z)^(C−A1−B1)·2F1(C−A1, C−B1; C; z)
// turns the product into (1−z)^(a−1)·2F1(a+b−1−r, a−1; a+b+x−1; z),
// whose parameters no longer grow with x except the denominator one
// (so the series converges faster as x grows). Writing
// 2F1(A, a−1; C; z) = 1 + (a−1)·H gives the form evaluated here:
//
//	E[Y(t) | alive] = (a+b+x−1) · [ (1 − (1−z)^(a−1))/(a−1) − (1−z)^(a−1)·H ]
//	H = Σ_{j≥1} (A)_j (a)_{j−1} z^j / ((C)_j j!),  A = a+b−1−r,  C = a+b+x−1,
//
// where (1 − (1−z)^(a−1))/(a−1) = −expm1((a−1)·ln(1−z))/(a−1) tends to
// −ln(1−z) as a → 1, with no cancellation. Once the terms keep one sign,
// the ratio of consecutive terms is bounded by ρ = z·max(1, (A+j)/(j+1)),
// so the remaining tail is at most |term|·ρ/(1−ρ); summation stops when
// that bound is below 1e-16 of the result. When A is very negative
// (r ≫ a+b) the first terms alternate and cancel, and when z is close to
// 1 (a horizon far beyond α+T) the series is slow; in those cases —
// detected from a rounding-error estimate and a term limit — the
// expectation is computed instead as the integral over the posterior of
// the dropout probability, p ~ Beta(a, b+x), of
// (1 − (1 + p·t/(α+T))^−(r+x))/p, by tanh-sinh quadrature. Tests check
// the two methods against each other and against the printed formula.
//
// # Reference check
//
// On the CDNOW data of the paper (2,357 customers, weeks, calibration
// to 1997-09-30) Fit gives r = 0.2426, α = 4.4135, a = 0.7929,
// b = 2.4258, LL = −9582.426 (the paper: 0.243, 4.414, 0.793, 2.426,
// −9582.4); with the paper's parameters P(alive | x=6, t_x=30.43,
// T=38.86) = 0.7077 and E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226.
package churn
