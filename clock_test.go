package huella_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoWallClockInValidation keeps the outcome of validation independent of
// the hour it runs: a function that validates takes the time as a parameter
// (Validate(now)), and the packages that read transactions and records
// (nistmap, ansinist, iso19794, wsq) take it in their options, so that tests
// fix it; there time.Now() may only fill a zero option (if opt.Now.IsZero()).
// A time.Now() there once made every import dated today fail before midday
// UTC.
func TestNoWallClockInValidation(t *testing.T) {
	pure := map[string]bool{"nistmap": true, "ansinist": true, "iso19794": true, "wsq": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		top := strings.Split(filepath.ToSlash(path), "/")[0]
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			validates := strings.HasPrefix(strings.ToLower(fn.Name.Name), "validate")
			if !validates && !pure[top] {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if !validates && isZeroCheck(n) {
					return false // a default for an option left zero
				}
				if isTimeNow(n) {
					t.Errorf("%s: %s calls time.Now(): take the time as a parameter or an option", fset.Position(n.Pos()), fn.Name.Name)
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// isTimeNow reports whether n is a call of time.Now.
func isTimeNow(n ast.Node) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Now" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "time"
}

// isZeroCheck reports whether n is an if statement on X.IsZero() whose body
// only assigns: the default of a zero time option.
func isZeroCheck(n ast.Node) bool {
	stmt, ok := n.(*ast.IfStmt)
	if !ok || stmt.Init != nil || stmt.Else != nil {
		return false
	}
	call, ok := stmt.Cond.(*ast.CallExpr)
	if !ok {
		return false
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "IsZero" {
		return false
	}
	for _, s := range stmt.Body.List {
		if _, ok := s.(*ast.AssignStmt); !ok {
			return false
		}
	}
	return true
}
