package graphql_test

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/printer"
	"github.com/graphql-go/graphql/language/source"

	"github.com/kefu-crm/kefu/graphql"
)

// sdlItems indexes an SDL document: every type, field, argument, input
// field and enum value, keyed as AddedAfterContract names them, with its
// type and default printed.
func sdlItems(doc *ast.Document) map[string]string {
	out := map[string]string{}
	def := func(v ast.Value) string {
		if v == nil {
			return ""
		}
		return " = " + printer.Print(v).(string)
	}
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.ScalarDefinition:
			out[d.Name.Value] = "scalar"
		case *ast.EnumDefinition:
			out[d.Name.Value] = "enum"
			for _, v := range d.Values {
				out[d.Name.Value+"."+v.Name.Value] = "value"
			}
		case *ast.InputObjectDefinition:
			out[d.Name.Value] = "input"
			for _, f := range d.Fields {
				out[d.Name.Value+"."+f.Name.Value] = typeString(f.Type) + def(f.DefaultValue)
			}
		case *ast.ObjectDefinition:
			out[d.Name.Value] = "type"
			for _, f := range d.Fields {
				key := d.Name.Value + "." + f.Name.Value
				out[key] = typeString(f.Type)
				for _, a := range f.Arguments {
					out[key+"("+a.Name.Value+")"] = typeString(a.Type) + def(a.DefaultValue)
				}
			}
		}
	}
	return out
}

// The SDL kefu serves (kefu schema) parses; it has every item of the
// contract with the same type and default; what it has beyond the contract
// is exactly AddedAfterContract, and each of those is marked.
func TestSDLKeepsTheContractAndNamesWhatIsAdded(t *testing.T) {
	sdl, err := graphql.SchemaSDL()
	if err != nil {
		t.Fatalf("SchemaSDL: %v", err)
	}
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(sdl), Name: "kefu schema"})})
	if err != nil {
		t.Fatalf("the served SDL does not parse: %v", err)
	}
	served := sdlItems(doc)
	contract := sdlItems(parseContract(t))
	for k, want := range contract {
		if got, ok := served[k]; !ok {
			t.Errorf("%s: in the contract, not in the served SDL", k)
		} else if got != want {
			t.Errorf("%s: served %q, the contract says %q", k, got, want)
		}
	}
	var extra []string
	for k := range served {
		if _, ok := contract[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	// Adding a type adds its fields: only the type is listed.
	var top []string
	for _, k := range extra {
		parent, _, nested := strings.Cut(k, ".")
		if nested && slices.Contains(extra, parent) {
			continue
		}
		if i := strings.Index(k, "("); i > 0 && slices.Contains(extra, k[:i]) {
			continue
		}
		top = append(top, k)
	}
	want := slices.Clone(graphql.AddedAfterContract)
	sort.Strings(want)
	if !slices.Equal(top, want) {
		t.Errorf("served beyond the contract: %v\nAddedAfterContract says: %v", top, want)
	}
	for _, a := range graphql.AddedAfterContract {
		name := a[strings.LastIndexAny(a, ".")+1:]
		marked := regexp.MustCompile(`# added after the contract\n\s*(type |enum |input |scalar )?` + regexp.QuoteMeta(name) + `\b`)
		if !marked.MatchString(sdl) {
			t.Errorf("%s is not marked in the SDL", a)
		}
	}
}

// SchemaSDL (no store behind it) prints the schema the server serves.
func TestSDLIsTheServedSchema(t *testing.T) {
	sdl, err := graphql.SchemaSDL()
	if err != nil {
		t.Fatal(err)
	}
	served, err := graphql.PrintSDL(newTestSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if sdl != served {
		t.Errorf("kefu schema and the served schema differ")
	}
	if !strings.Contains(sdl, "bucket: Bucket = MONTH") || !strings.Contains(sdl, "stages: [Stage!] = [NEW, ACTIVE, LOYAL, GRUMBLING, COMPLAINING, SILENT, DORMANT]") {
		t.Errorf("defaults are not printed as literals:\n%.3000s", sdl)
	}
}
