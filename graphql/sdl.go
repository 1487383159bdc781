package graphql

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kefu-crm/kefu/app"

	gql "github.com/graphql-go/graphql"
)

// AddedAfterContract lists what the served schema has beyond
// shared/schema.graphql, the contract it keeps (it only ever adds): types,
// fields ("Type.field"), arguments ("Type.field(arg)"), input fields and
// enum values ("Enum.VALUE"). PrintSDL marks each of them. A test holds the
// list to the actual difference.
var AddedAfterContract = []string{
	"CampaignPreview",
	"Complaint.replyDueProvisional",
	"Customer.mergedFrom",
	"Customer.mergedInto",
	"Customer.nextBestAction",
	"Customer.nextPurchase",
	"Customer.wechat",
	"CustomerFilter.dueForReplenishmentBy",
	"FollowUpReason.REPLENISHMENT",
	"Complaint.version",
	"GreetingCampaign.excluded",
	"GreetingCampaign.excludedByReason",
	"DuplicateCandidate",
	"DuplicateCandidateConnection",
	"DuplicateCandidateEdge",
	"KeyCount",
	"MergeCustomersInput",
	"Mutation.mergeCustomers",
	"Mutation.transferComplaint",
	"NextBestAction",
	"NextBestActionKind",
	"NextPurchase",
	"ProfileChoiceInput",
	"Query.duplicateCandidates",
	"Query.nextBestActions",
	"Query.previewGreetingCampaign",
	"Query.resolutionPlaybook",
	"Query.serviceReport",
	"Query.suggestedResolutions",
	"RecoveryStepCount",
	"ResolutionOptionRecord",
	"ResolutionPlaybook",
	"Query.viewer",
	"Role",
	"ServiceReport",
	"TimelineEntry.customerId",
	"TransferComplaintInput",
	"UnmergeCustomersInput",
	"Mutation.unmergeCustomers",
	"Viewer",
}

// PrintSDL prints schema in the GraphQL schema definition language, with
// every description, the argument and input-field defaults as literals,
// and a "# added after the contract" comment on what AddedAfterContract
// names. Types come in kind order (schema, scalars, enums, inputs,
// objects), each kind by name, fields by name.
func PrintSDL(schema gql.Schema) (string, error) {
	added := map[string]bool{}
	for _, a := range AddedAfterContract {
		added[a] = true
	}
	var b strings.Builder
	b.WriteString("# kefu's GraphQL schema, as served (kefu schema prints it).\n")
	b.WriteString("# It keeps the contract shared/schema.graphql and adds, marked below:\n")
	for _, a := range AddedAfterContract {
		b.WriteString("#   " + a + "\n")
	}
	b.WriteString("\nschema {\n  query: " + schema.QueryType().Name() + "\n")
	if m := schema.MutationType(); m != nil {
		b.WriteString("  mutation: " + m.Name() + "\n")
	}
	b.WriteString("}\n")

	var scalars, enums, inputs, objects []string
	for name, t := range schema.TypeMap() {
		if strings.HasPrefix(name, "__") {
			continue
		}
		switch t.(type) {
		case *gql.Scalar:
			if name != "String" && name != "Int" && name != "Float" && name != "Boolean" && name != "ID" {
				scalars = append(scalars, name)
			}
		case *gql.Enum:
			enums = append(enums, name)
		case *gql.InputObject:
			inputs = append(inputs, name)
		case *gql.Object:
			objects = append(objects, name)
		}
	}
	for _, l := range [][]string{scalars, enums, inputs, objects} {
		sort.Strings(l)
	}
	mark := func(key, indent string) {
		if added[key] {
			b.WriteString(indent + "# added after the contract\n")
		}
	}
	types := schema.TypeMap()
	for _, name := range scalars {
		t := types[name].(*gql.Scalar)
		b.WriteString("\n")
		description(&b, t.Description(), "")
		mark(name, "")
		b.WriteString("scalar " + name + "\n")
	}
	for _, name := range enums {
		t := types[name].(*gql.Enum)
		b.WriteString("\n")
		description(&b, t.Description(), "")
		mark(name, "")
		b.WriteString("enum " + name + " {\n")
		vals := t.Values()
		sort.Slice(vals, func(i, j int) bool { return vals[i].Name < vals[j].Name })
		for _, v := range vals {
			description(&b, v.Description, "  ")
			mark(name+"."+v.Name, "  ")
			b.WriteString("  " + v.Name + deprecated(v.DeprecationReason) + "\n")
		}
		b.WriteString("}\n")
	}
	for _, name := range inputs {
		t := types[name].(*gql.InputObject)
		b.WriteString("\n")
		description(&b, t.Description(), "")
		mark(name, "")
		b.WriteString("input " + name + " {\n")
		fields := t.Fields()
		for _, fn := range sortedKeys(fields) {
			f := fields[fn]
			description(&b, f.Description(), "  ")
			mark(name+"."+fn, "  ")
			def, err := defaultSuffix(f.DefaultValue, f.Type)
			if err != nil {
				return "", fmt.Errorf("graphql: input %s.%s: %w", name, fn, err)
			}
			b.WriteString("  " + fn + ": " + f.Type.String() + def + "\n")
		}
		b.WriteString("}\n")
	}
	for _, name := range objects {
		t := types[name].(*gql.Object)
		b.WriteString("\n")
		description(&b, t.Description(), "")
		mark(name, "")
		b.WriteString("type " + name)
		if ifs := t.Interfaces(); len(ifs) > 0 {
			names := make([]string, len(ifs))
			for i, f := range ifs {
				names[i] = f.Name()
			}
			b.WriteString(" implements " + strings.Join(names, " & "))
		}
		b.WriteString(" {\n")
		fields := t.Fields()
		for _, fn := range sortedKeys(fields) {
			f := fields[fn]
			description(&b, f.Description, "  ")
			mark(name+"."+fn, "  ")
			b.WriteString("  " + fn)
			if len(f.Args) > 0 {
				b.WriteString("(\n")
				args := slices.Clone(f.Args)
				sort.Slice(args, func(i, j int) bool { return args[i].Name() < args[j].Name() })
				for _, a := range args {
					description(&b, a.Description(), "    ")
					mark(name+"."+fn+"("+a.Name()+")", "    ")
					def, err := defaultSuffix(a.DefaultValue, a.Type)
					if err != nil {
						return "", fmt.Errorf("graphql: %s.%s(%s): %w", name, fn, a.Name(), err)
					}
					b.WriteString("    " + a.Name() + ": " + a.Type.String() + def + "\n")
				}
				b.WriteString("  )")
			}
			b.WriteString(": " + f.Type.String() + deprecated(f.DeprecationReason) + "\n")
		}
		b.WriteString("}\n")
	}
	return b.String(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func defaultSuffix(v any, t gql.Input) (string, error) {
	if v == nil {
		return "", nil
	}
	lit, err := literal(v, t)
	if err != nil {
		return "", err
	}
	return " = " + lit, nil
}

func deprecated(reason string) string {
	if reason == "" {
		return ""
	}
	lit, _ := scalarLiteral(reason)
	return " @deprecated(reason: " + lit + ")"
}

// description writes d as a block string.
func description(b *strings.Builder, d, indent string) {
	if d == "" {
		return
	}
	d = strings.ReplaceAll(d, `"""`, `\"""`)
	if !strings.Contains(d, "\n") && !strings.HasSuffix(d, `"`) {
		b.WriteString(indent + `"""` + d + `"""` + "\n")
		return
	}
	b.WriteString(indent + `"""` + "\n")
	for _, line := range strings.Split(d, "\n") {
		b.WriteString(indent + line + "\n")
	}
	b.WriteString(indent + `"""` + "\n")
}

// SchemaSDL builds the schema kefu serves, without any store behind it,
// and prints it (kefu schema). Its resolvers are never run.
func SchemaSDL() (string, error) {
	s, err := NewSchema(Deps{App: &app.Application{}})
	if err != nil {
		return "", err
	}
	return PrintSDL(s)
}
