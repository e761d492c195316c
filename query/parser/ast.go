package parser

// Pos is a 1-based line and column (in runes) in the query text. A node's
// Pos is where it starts, except for infix and postfix nodes (Binary,
// Between, InList, Like, IsNull, Subscript, FieldAccess, AtTimeZone, ...),
// whose Pos is that of their operator, and joins and set operations, whose
// Pos is that of their keyword.
type Pos struct {
	Line, Col int
}

// Position returns p; embedding Pos gives every node its Position method.
func (p Pos) Position() Pos { return p }

// Node is any AST node.
type Node interface {
	Position() Pos
}

// Statement is a complete SQL statement: *Query, *ShowDatabases,
// *ShowTables, *ShowMeasures, *Describe or *Unload.
type Statement interface {
	Node
	statementNode()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	exprNode()
}

// Relation is an item of a FROM clause: *Table, *SubqueryRelation, *Join,
// *Unnest or *ParenRelation.
type Relation interface {
	Node
	relationNode()
}

// QueryBody is the body of a query: *Select, *SetOperation, *Values or a
// parenthesised *Query.
type QueryBody interface {
	Node
	queryBodyNode()
}

// Name is one identifier. Unquoted names keep the case they were written
// in and compare case-insensitively; quoted names compare exactly.
type Name struct {
	Value  string
	Quoted bool
}

// Matches reports whether the identifier denotes s under the comparison
// rule above.
func (n Name) Matches(s string) bool {
	if n.Quoted {
		return n.Value == s
	}
	return equalFold(n.Value, s)
}

// Alias is "AS name" or "AS name(col, ...)" after a relation.
type Alias struct {
	Pos
	Name    Name
	Columns []Name
}

// ---- Statements ----

// Query is a SELECT/VALUES query with its WITH, ORDER BY, OFFSET and LIMIT
// clauses. Limit and Offset are nil when absent; LimitAll records LIMIT ALL.
type Query struct {
	Pos
	With     []*CTE
	Body     QueryBody
	OrderBy  []*OrderItem
	Offset   Expr
	Limit    Expr
	LimitAll bool
}

// CTE is one "name [(cols)] AS (query)" of a WITH clause.
type CTE struct {
	Pos
	Name    Name
	Columns []Name
	Query   *Query
}

// SortOrder is the direction of an ORDER BY item; SortDefault means not
// written (ascending).
type SortOrder uint8

// Sort directions.
const (
	SortDefault SortOrder = iota
	SortAsc
	SortDesc
)

// NullsOrder is the NULLS FIRST/LAST option of an ORDER BY item.
type NullsOrder uint8

// Null orderings; NullsDefault means not written.
const (
	NullsDefault NullsOrder = iota
	NullsFirst
	NullsLast
)

// OrderItem is one ORDER BY element.
type OrderItem struct {
	Pos
	Expr  Expr
	Order SortOrder
	Nulls NullsOrder
}

// ShowDatabases is SHOW DATABASES [LIKE 'p'].
type ShowDatabases struct {
	Pos
	Like *Literal
}

// ShowTables is SHOW TABLES [FROM db] [LIKE 'p'].
type ShowTables struct {
	Pos
	From *Ident
	Like *Literal
}

// ShowMeasures is SHOW MEASURES FROM db.tbl [LIKE 'p'].
type ShowMeasures struct {
	Pos
	From *Ident
	Like *Literal
}

// Describe is DESCRIBE db.tbl.
type Describe struct {
	Pos
	Table *Ident
}

// Unload is UNLOAD (query) TO 's3://...' [WITH (name = value, ...)].
type Unload struct {
	Pos
	Query   *Query
	To      *Literal
	Options []*Property
}

// Property is one "name = value" of an UNLOAD WITH list.
type Property struct {
	Pos
	Name  Name
	Value Expr
}

func (*Query) statementNode()         {}
func (*ShowDatabases) statementNode() {}
func (*ShowTables) statementNode()    {}
func (*ShowMeasures) statementNode()  {}
func (*Describe) statementNode()      {}
func (*Unload) statementNode()        {}

// ---- Query bodies ----

// Select is one SELECT block.
type Select struct {
	Pos
	Distinct bool
	Items    []*SelectItem
	From     []Relation // comma-separated; empty without FROM
	Where    Expr
	GroupBy  *GroupBy
	Having   Expr
}

// SelectItem is "expr [AS alias]", "*" (Star, StarOf nil) or "t.*" (Star,
// StarOf t).
type SelectItem struct {
	Pos
	Expr   Expr
	Alias  *Name
	Star   bool
	StarOf *Ident
}

// GroupBy is GROUP BY [ALL|DISTINCT] elements.
type GroupBy struct {
	Pos
	Distinct bool
	All      bool
	Elements []*GroupingElement
}

// GroupingKind says what a GroupingElement is.
type GroupingKind uint8

// Grouping element kinds.
const (
	GroupExpr   GroupingKind = iota // Expr
	GroupEmpty                      // ()
	GroupRollup                     // ROLLUP (Sets[0]...)
	GroupCube                       // CUBE (Sets[0]...)
	GroupSets                       // GROUPING SETS ((Sets[0]...), ...)
)

// GroupingElement is one GROUP BY element. Expr is set for GroupExpr;
// ROLLUP and CUBE keep their column list in Sets[0]; GROUPING SETS keep one
// entry per set.
type GroupingElement struct {
	Pos
	Kind GroupingKind
	Expr Expr
	Sets [][]Expr
}

// SetOp is a set operator.
type SetOp uint8

// Set operators.
const (
	Union SetOp = iota
	Intersect
	Except
)

// SetOperation is "left UNION|INTERSECT|EXCEPT [ALL|DISTINCT] right".
type SetOperation struct {
	Pos
	Op       SetOp
	All      bool
	Distinct bool // DISTINCT written explicitly
	Left     QueryBody
	Right    QueryBody
}

// Values is a VALUES row list. Each row is one expression; a parenthesised
// multi-column row is a *RowCtor.
type Values struct {
	Pos
	Rows []Expr
}

func (*Select) queryBodyNode()       {}
func (*SetOperation) queryBodyNode() {}
func (*Values) queryBodyNode()       {}
func (*Query) queryBodyNode()        {}

// ---- Relations ----

// Table is a table reference such as db.tbl or "db"."tbl".
type Table struct {
	Pos
	Name  *Ident
	Alias *Alias
}

// SubqueryRelation is "(query) [AS] alias" in FROM.
type SubqueryRelation struct {
	Pos
	Query *Query
	Alias *Alias
}

// ParenRelation is a parenthesised relation, typically a join.
type ParenRelation struct {
	Pos
	Relation Relation
	Alias    *Alias
}

// JoinKind is the kind of a join.
type JoinKind uint8

// Join kinds.
const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

// Join is "left kind JOIN right [ON cond | USING (cols)]".
type Join struct {
	Pos
	Kind  JoinKind
	Left  Relation
	Right Relation
	On    Expr
	Using []Name
}

// Unnest is UNNEST(expr, ...) [WITH ORDINALITY] [AS t(cols)].
type Unnest struct {
	Pos
	Args           []Expr
	WithOrdinality bool
	Alias          *Alias
}

func (*Table) relationNode()            {}
func (*SubqueryRelation) relationNode() {}
func (*ParenRelation) relationNode()    {}
func (*Join) relationNode()             {}
func (*Unnest) relationNode()           {}

// ---- Expressions ----

// Ident is a possibly qualified name: col, t.col, db.tbl.col.
type Ident struct {
	Pos
	Parts []Name
}

// Names returns the parts' values: ["db", "tbl"] for "db".tbl.
func (id *Ident) Names() []string {
	out := make([]string, len(id.Parts))
	for i, p := range id.Parts {
		out[i] = p.Value
	}
	return out
}

// LitKind is the kind of a Literal.
type LitKind uint8

// Literal kinds. Value holds the unescaped string for LitString and the
// typed literals, the digits for numbers, and is empty otherwise.
const (
	LitString    LitKind = iota
	LitInteger           // 42
	LitDecimal           // 1.5, 1e3
	LitTrue              // TRUE
	LitFalse             // FALSE
	LitNull              // NULL
	LitTimestamp         // TIMESTAMP '...'
	LitDate              // DATE '...'
	LitTime              // TIME '...'
)

// Literal is a constant.
type Literal struct {
	Pos
	Kind  LitKind
	Value string
}

// Duration is a Timestream duration literal such as 15m, in nanoseconds.
type Duration struct {
	Pos
	Nanos int64
}

// Interval is INTERVAL 'value' from [TO to]; From and To are upper-case
// field names (DAY, HOUR, ...), To empty for a single field.
type Interval struct {
	Pos
	Value string
	From  string
	To    string
}

// Param is a query parameter: @name (Name set) or ? (Index, 1-based, in
// order of appearance).
type Param struct {
	Pos
	Name  string
	Index int
}

// BinaryOp is a binary operator.
type BinaryOp uint8

// Binary operators; NE covers both <> and !=.
const (
	OpOr BinaryOp = iota
	OpAnd
	OpEQ
	OpNE
	OpLT
	OpGT
	OpLE
	OpGE
	OpConcat
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
)

var binaryOpText = [...]string{"OR", "AND", "=", "<>", "<", ">", "<=", ">=", "||", "+", "-", "*", "/", "%"}

// String returns the operator's SQL spelling.
func (op BinaryOp) String() string {
	if int(op) < len(binaryOpText) {
		return binaryOpText[op]
	}
	return "?"
}

// Binary is "L op R".
type Binary struct {
	Pos
	Op   BinaryOp
	L, R Expr
}

// UnaryOp is a prefix operator.
type UnaryOp uint8

// Unary operators.
const (
	OpNot UnaryOp = iota
	OpNeg
	OpPlus
)

// Unary is "NOT x", "-x" or "+x".
type Unary struct {
	Pos
	Op UnaryOp
	X  Expr
}

// Call is a function call. Star is count(*); NoParens marks CURRENT_DATE,
// CURRENT_TIME, CURRENT_TIMESTAMP, LOCALTIME and LOCALTIMESTAMP written
// without parentheses.
type Call struct {
	Pos
	Name     *Ident
	Args     []Expr
	Distinct bool
	Star     bool
	NoParens bool
	Filter   Expr
	Over     *Window
}

// Window is the OVER (...) specification of a window function call.
type Window struct {
	Pos
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *Frame
}

// FrameUnit is ROWS, RANGE or GROUPS.
type FrameUnit uint8

// Frame units.
const (
	FrameRows FrameUnit = iota
	FrameRange
	FrameGroups
)

// BoundKind is the kind of a window frame bound.
type BoundKind uint8

// Frame bound kinds.
const (
	UnboundedPreceding BoundKind = iota
	Preceding                    // Offset PRECEDING
	CurrentRow
	Following // Offset FOLLOWING
	UnboundedFollowing
)

// FrameBound is one end of a window frame.
type FrameBound struct {
	Pos
	Kind   BoundKind
	Offset Expr
}

// Frame is "unit start" or "unit BETWEEN start AND end" (End nil for the
// first form).
type Frame struct {
	Pos
	Unit  FrameUnit
	Start *FrameBound
	End   *FrameBound
}

// When is one WHEN ... THEN ... arm of a Case.
type When struct {
	Pos
	Cond   Expr
	Result Expr
}

// Case is CASE [operand] WHEN ... THEN ... [ELSE ...] END; Operand is nil
// for a searched CASE.
type Case struct {
	Pos
	Operand Expr
	Whens   []*When
	Else    Expr
}

// Type is a SQL type: Name upper-cased (BIGINT, VARCHAR, ARRAY, ROW,
// TIMESERIES, INTERVAL DAY TO SECOND, ...), Params the integer parameters
// (VARCHAR(10)), Elem the element type of ARRAY and TIMESERIES, Fields the
// fields of ROW.
type Type struct {
	Pos
	Name   string
	Params []string
	Elem   *Type
	Fields []*TypeField
}

// TypeField is one field of a ROW type; Name is nil when unnamed.
type TypeField struct {
	Pos
	Name *Name
	Type *Type
}

// Cast is CAST(x AS type) or TRY_CAST(x AS type).
type Cast struct {
	Pos
	X   Expr
	To  *Type
	Try bool
}

// Extract is EXTRACT(field FROM x); Field is upper-cased.
type Extract struct {
	Pos
	Field string
	X     Expr
}

// Subquery is a scalar subquery.
type Subquery struct {
	Pos
	Query *Query
}

// Exists is EXISTS (query).
type Exists struct {
	Pos
	Query *Query
}

// InList is "x [NOT] IN (a, b, ...)".
type InList struct {
	Pos
	X    Expr
	List []Expr
	Not  bool
}

// InSubquery is "x [NOT] IN (query)".
type InSubquery struct {
	Pos
	X     Expr
	Query *Query
	Not   bool
}

// Quantifier is ANY (also written SOME) or ALL.
type Quantifier uint8

// Quantifiers.
const (
	QuantAny Quantifier = iota
	QuantSome
	QuantAll
)

// Quantified is "x op ANY|SOME|ALL (query)"; Op is a comparison.
type Quantified struct {
	Pos
	Op         BinaryOp
	X          Expr
	Quantifier Quantifier
	Query      *Query
}

// Between is "x [NOT] BETWEEN low AND high".
type Between struct {
	Pos
	X, Low, High Expr
	Not          bool
}

// Like is "x [NOT] LIKE pattern [ESCAPE esc]"; Escape is nil when absent.
type Like struct {
	Pos
	X, Pattern, Escape Expr
	Not                bool
}

// IsNull is "x IS [NOT] NULL".
type IsNull struct {
	Pos
	X   Expr
	Not bool
}

// IsDistinct is "L IS [NOT] DISTINCT FROM R".
type IsDistinct struct {
	Pos
	L, R Expr
	Not  bool
}

// Lambda is "x -> body" or "(x, y) -> body".
type Lambda struct {
	Pos
	Params []Name
	Body   Expr
}

// ArrayCtor is ARRAY[a, b, ...].
type ArrayCtor struct {
	Pos
	Elems []Expr
}

// RowCtor is ROW(a, b, ...) or (a, b, ...).
type RowCtor struct {
	Pos
	Elems []Expr
}

// Subscript is x[index].
type Subscript struct {
	Pos
	X     Expr
	Index Expr
}

// FieldAccess is x.field where x is not a plain name (a plain a.b is an
// Ident).
type FieldAccess struct {
	Pos
	X     Expr
	Field Name
}

// AtTimeZone is "x AT TIME ZONE zone".
type AtTimeZone struct {
	Pos
	X    Expr
	Zone Expr
}

func (*Ident) exprNode()       {}
func (*Literal) exprNode()     {}
func (*Duration) exprNode()    {}
func (*Interval) exprNode()    {}
func (*Param) exprNode()       {}
func (*Binary) exprNode()      {}
func (*Unary) exprNode()       {}
func (*Call) exprNode()        {}
func (*Case) exprNode()        {}
func (*Cast) exprNode()        {}
func (*Extract) exprNode()     {}
func (*Subquery) exprNode()    {}
func (*Exists) exprNode()      {}
func (*InList) exprNode()      {}
func (*InSubquery) exprNode()  {}
func (*Quantified) exprNode()  {}
func (*Between) exprNode()     {}
func (*Like) exprNode()        {}
func (*IsNull) exprNode()      {}
func (*IsDistinct) exprNode()  {}
func (*Lambda) exprNode()      {}
func (*ArrayCtor) exprNode()   {}
func (*RowCtor) exprNode()     {}
func (*Subscript) exprNode()   {}
func (*FieldAccess) exprNode() {}
func (*AtTimeZone) exprNode()  {}
