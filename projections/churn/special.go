package churn

import "math"

// lgamma returns ln Γ(x) for x > 0.
func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// digamma returns ψ(x) = d/dx ln Γ(x) for x > 0, by the recurrence
// ψ(x) = ψ(x+1) − 1/x up to x ≥ 6 and the asymptotic series there
// (absolute error below 1e-14).
func digamma(x float64) float64 {
	var acc float64
	for x < 6 {
		acc -= 1 / x
		x++
	}
	inv := 1 / x
	inv2 := inv * inv
	// ln x − 1/(2x) − Σ B_{2k}/(2k x^{2k})
	series := inv2 * (1.0/12 - inv2*(1.0/120-inv2*(1.0/252-inv2*(1.0/240-inv2*(1.0/132)))))
	return acc + math.Log(x) - 0.5*inv - series
}

// logSumExp2 returns ln(e^u + e^v) without overflow, together with the
// weights e^u/(e^u+e^v) and e^v/(e^u+e^v).
func logSumExp2(u, v float64) (lse, wu, wv float64) {
	if u >= v {
		e := math.Exp(v - u)
		d := 1 / (1 + e)
		return u + math.Log1p(e), d, e * d
	}
	e := math.Exp(u - v)
	d := 1 / (1 + e)
	return v + math.Log1p(e), e * d, d
}

// logistic returns 1/(1+e^z) without overflow.
func logistic(z float64) float64 {
	if z > 0 {
		e := math.Exp(-z)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(z))
}
