package graphql

// GuardResolvers lets the tests give a schema of their own the guard every
// schema NewSchema builds has (see guardResolvers).
var GuardResolvers = guardResolvers
