// gopatch removes imports and map-literal entries from a Go source file through go/ast, so a
// dependency the module proxy refuses can be cut out of a build without text surgery.
//
//	gopatch -file provider.go -import PATH [-import PATH...] -key '"csharp"' [-key ...]
//
// Every named import and every key must be found, or it exits 1 naming what is missing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var imports, keys list
	file := flag.String("file", "", "Go source file to patch in place")
	flag.Var(&imports, "import", "import path to remove")
	flag.Var(&keys, "key", "map literal key to remove, as written (e.g. \"csharp\")")
	flag.Parse()
	if err := patch(*file, imports, keys); err != nil {
		fmt.Fprintln(os.Stderr, "gopatch:", err)
		os.Exit(1)
	}
}

func patch(path string, imports, keys []string) error {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		kept := gen.Specs[:0]
		for _, spec := range gen.Specs {
			importPath, _ := strconv.Unquote(spec.(*ast.ImportSpec).Path.Value)
			if contains(imports, importPath) {
				found["import "+importPath] = true
				continue
			}
			kept = append(kept, spec)
		}
		gen.Specs = kept
	}
	ast.Inspect(file, func(node ast.Node) bool {
		literal, ok := node.(*ast.CompositeLit)
		if !ok {
			return true
		}
		kept := literal.Elts[:0]
		for _, element := range literal.Elts {
			if pair, ok := element.(*ast.KeyValueExpr); ok {
				if key, ok := pair.Key.(*ast.BasicLit); ok && contains(keys, key.Value) {
					found["key "+key.Value] = true
					continue
				}
			}
			kept = append(kept, element)
		}
		literal.Elts = kept
		return true
	})
	var missing []string
	for _, p := range imports {
		if !found["import "+p] {
			missing = append(missing, "import "+p)
		}
	}
	for _, k := range keys {
		if !found["key "+k] {
			missing = append(missing, "key "+k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: not found: %s", path, strings.Join(missing, "; "))
	}
	var out bytes.Buffer
	if err := format.Node(&out, fset, file); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

func contains(list []string, value string) bool {
	for _, item := range list {
		if item == value {
			return true
		}
	}
	return false
}
