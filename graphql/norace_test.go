//go:build !race

package graphql_test

// costSlowdown scales FuzzDocumentCost's time bound (see race_test.go).
const costSlowdown = 1
