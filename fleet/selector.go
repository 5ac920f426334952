package fleet

import (
	"slices"
	"strconv"
	"strings"
)

// Node selector operators (Kubernetes NodeSelectorOperator).
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
	OpGt           = "Gt"
	OpLt           = "Lt"
)

// Expression is one node selector requirement, as in a pod spec's
// nodeAffinity.
type Expression struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Term is a nodeSelectorTerm: it holds when every expression does.
type Term struct {
	MatchExpressions []Expression `json:"matchExpressions"`
}

// Holds evaluates e on a node's labels as the Kubernetes scheduler does.
func (e Expression) Holds(labels map[string]string) bool {
	v, ok := labels[e.Key]
	switch e.Operator {
	case OpIn:
		return ok && slices.Contains(e.Values, v)
	case OpNotIn:
		return !ok || !slices.Contains(e.Values, v)
	case OpExists:
		return ok
	case OpDoesNotExist:
		return !ok
	case OpGt, OpLt:
		if !ok || len(e.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(e.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if e.Operator == OpGt {
			return have > want
		}
		return have < want
	}
	return false
}

// Holds reports whether every expression of t holds on labels.
func (t Term) Holds(labels map[string]string) bool {
	for _, e := range t.MatchExpressions {
		if !e.Holds(labels) {
			return false
		}
	}
	return true
}

func (e Expression) String() string {
	return e.Key + " " + e.Operator + " " + strings.Join(e.Values, ",")
}

// dnf is a disjunction of terms: it holds when some term does. nil holds
// for no node; a dnf of one empty term holds for every node.
type dnf []Term

// always is the dnf that holds for every node.
var always = dnf{{}}

func one(es ...Expression) dnf { return dnf{{MatchExpressions: es}} }

// and is the conjunction of a and b, as a dnf (each term of a with each of
// b), contradictory terms dropped.
func and(a, b dnf) dnf {
	var out dnf
	for _, x := range a {
		for _, y := range b {
			es := append(slices.Clone(x.MatchExpressions), y.MatchExpressions...)
			if t, ok := simplify(es); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// simplify merges the expressions of a term by key: In sets intersect, the
// highest Gt and lowest Lt win, Exists goes when another expression needs
// the label; ok is false for a term that cannot hold.
func simplify(es []Expression) (Term, bool) {
	byKey := map[string][]Expression{}
	var keys []string
	for _, e := range es {
		if _, seen := byKey[e.Key]; !seen {
			keys = append(keys, e.Key)
		}
		byKey[e.Key] = append(byKey[e.Key], e)
	}
	var t Term
	for _, k := range keys {
		merged, ok := mergeKey(byKey[k])
		if !ok {
			return Term{}, false
		}
		t.MatchExpressions = append(t.MatchExpressions, merged...)
	}
	slices.SortFunc(t.MatchExpressions, func(a, b Expression) int { return strings.Compare(a.String(), b.String()) })
	return t, true
}

// mergeKey merges the expressions on one key.
func mergeKey(es []Expression) ([]Expression, bool) {
	var in []string
	hasIn, exists, absent := false, false, false
	var gt, lt *int64
	var out []Expression
	for _, e := range es {
		switch e.Operator {
		case OpIn:
			if !hasIn {
				in, hasIn = slices.Clone(e.Values), true
			} else {
				in = slices.DeleteFunc(in, func(v string) bool { return !slices.Contains(e.Values, v) })
			}
		case OpExists:
			exists = true
		case OpDoesNotExist:
			absent = true
		case OpGt, OpLt:
			n, err := strconv.ParseInt(e.Values[0], 10, 64)
			if err != nil {
				return nil, false
			}
			if e.Operator == OpGt && (gt == nil || n > *gt) {
				gt = &n
			}
			if e.Operator == OpLt && (lt == nil || n < *lt) {
				lt = &n
			}
		default:
			out = append(out, e)
		}
	}
	key := es[0].Key
	needs := hasIn || exists || gt != nil || lt != nil
	switch {
	case absent && needs:
		return nil, false
	case absent:
		out = append(out, Expression{Key: key, Operator: OpDoesNotExist})
	case hasIn && len(in) == 0:
		return nil, false
	case hasIn:
		slices.Sort(in)
		out = append(out, Expression{Key: key, Operator: OpIn, Values: slices.Compact(in)})
	case exists && gt == nil && lt == nil:
		out = append(out, Expression{Key: key, Operator: OpExists})
	}
	if gt != nil {
		out = append(out, Expression{Key: key, Operator: OpGt, Values: []string{strconv.FormatInt(*gt, 10)}})
	}
	if lt != nil {
		out = append(out, Expression{Key: key, Operator: OpLt, Values: []string{strconv.FormatInt(*lt, 10)}})
	}
	return out, true
}

// prune drops duplicate terms and terms implied by a smaller one (a term
// whose expressions include all of another's holds on fewer nodes).
func prune(d dnf) dnf {
	slices.SortStableFunc(d, func(a, b Term) int { return len(a.MatchExpressions) - len(b.MatchExpressions) })
	var out dnf
	for _, t := range d {
		redundant := false
		for _, kept := range out {
			if subset(kept.MatchExpressions, t.MatchExpressions) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, t)
		}
	}
	return out
}

func subset(a, b []Expression) bool {
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y Expression) bool { return x.String() == y.String() }) {
			return false
		}
	}
	return true
}
