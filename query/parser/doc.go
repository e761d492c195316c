// Package parser owns TidalDB's SQL front end: a hand-written lexer and
// recursive-descent parser for Amazon Timestream's SQL dialect (derived from
// Trino) that turns query text into the AST declared in ast.go, and Format,
// the printer that turns an AST back into canonical SQL text.
//
// The package knows nothing about tables, types or functions: it checks
// syntax only. Name resolution, typing and planning belong to the query
// planner. Timestream specifics handled here are duration literals (15m,
// 1h), the measure_value::double column spelling, @name parameters and the
// SHOW / DESCRIBE / UNLOAD statements. The accepted grammar is summarised in
// docs/sql-grammar.md.
//
// Parse and ParseExpr are pure functions and safe for concurrent use. The AST
// they return is owned by the caller; nothing in this package retains it.
// Syntax errors are *Error values carrying a 1-based line and column and a
// Trino-style message ("mismatched input 'FORM'. Expecting: ...").
package parser
