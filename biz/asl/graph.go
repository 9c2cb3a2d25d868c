package asl

import (
	"fmt"
	"html"
	"sort"
	"strings"
)

// The diagram of a state machine: its states as boxes (a Choice as a
// diamond, Succeed green, Fail red), the transitions as arrows — a Choice's
// labelled with its condition, a Catch's dashed with the errors it catches
// — and what a state retries written under its name. Mermaid (for
// Markdown) and SVG (for a browser) draw the same graph.

type gnode struct {
	id, name, kind, detail string
}

type gedge struct {
	from, to, label string
	dashed          bool
}

type graph struct {
	nodes []*gnode
	edges []gedge
	index map[string]int
}

func (g *graph) add(n *gnode) {
	g.index[n.name] = len(g.nodes)
	g.nodes = append(g.nodes, n)
}

// buildGraph makes the graph of a machine: Start and End circles around
// its states.
func buildGraph(m *Machine) *graph {
	g := &graph{index: map[string]int{}}
	g.add(&gnode{id: "start", name: "\x00start", kind: "start"})
	names := reachableOrder(m)
	for i, name := range names {
		s := m.States[name]
		g.add(&gnode{id: fmt.Sprintf("s%d", i), name: name, kind: s.Type, detail: detailOf(s)})
	}
	g.add(&gnode{id: "end", name: "\x00end", kind: "end"})
	g.edges = append(g.edges, gedge{from: "\x00start", to: m.StartAt})
	for _, name := range names {
		s := m.States[name]
		switch s.Type {
		case TypeChoice:
			for _, c := range s.Choices {
				g.edges = append(g.edges, gedge{from: name, to: c.Next, label: describeRule(c)})
			}
			if s.Default != "" {
				g.edges = append(g.edges, gedge{from: name, to: s.Default, label: "otherwise"})
			}
		case TypeSucceed:
			g.edges = append(g.edges, gedge{from: name, to: "\x00end"})
		case TypeFail:
		default:
			if s.End {
				g.edges = append(g.edges, gedge{from: name, to: "\x00end"})
			} else {
				g.edges = append(g.edges, gedge{from: name, to: s.Next})
			}
		}
		for _, c := range s.Catch {
			g.edges = append(g.edges, gedge{from: name, to: c.Next, label: "on " + strings.Join(c.ErrorEquals, ", "), dashed: true})
		}
	}
	return g
}

// reachableOrder lists the states from StartAt, depth first.
func reachableOrder(m *Machine) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		s, ok := m.States[name]
		if !ok || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, name)
		for _, c := range s.Choices {
			visit(c.Next)
		}
		visit(s.Default)
		visit(s.Next)
		for _, c := range s.Catch {
			visit(c.Next)
		}
	}
	visit(m.StartAt)
	for _, name := range m.Order {
		visit(name)
	}
	return out
}

// detailOf says what a state does, in a few words.
func detailOf(s *State) string {
	var parts []string
	switch s.Type {
	case TypeTask:
		parts = append(parts, taskDetail(s))
	case TypeWait:
		switch {
		case s.Seconds != nil:
			parts = append(parts, fmt.Sprintf("wait %gs", *s.Seconds))
		case s.Timestamp != "":
			parts = append(parts, "wait until "+s.Timestamp)
		case s.SecondsPath != "":
			parts = append(parts, "wait "+s.SecondsPath+" s")
		default:
			parts = append(parts, "wait until "+s.TimestampPath)
		}
	case TypeFail:
		e := s.Error
		if e == "" {
			e = s.ErrorPath
		}
		parts = append(parts, "fail: "+e)
	case TypeMap:
		items, _ := s.ItemsPath.or("$")
		parts = append(parts, "for each of "+items+": "+strings.Join(reachableOrder(s.Processor), " → "))
	case TypeParallel:
		for i, b := range s.Branches {
			parts = append(parts, fmt.Sprintf("branch %d: %s", i+1, strings.Join(reachableOrder(b), " → ")))
		}
	case TypePass:
		if s.HasResult {
			parts = append(parts, "result "+compact(s.Result))
		}
	}
	for _, r := range s.Retry {
		parts = append(parts, fmt.Sprintf("retries %s ×%d", strings.Join(r.ErrorEquals, ", "), r.MaxAttempts))
	}
	return strings.Join(parts, "\n")
}

// taskDetail is a cws task's call (POST /invoices, publish invoice.sent),
// or another task's resource.
func taskDetail(s *State) string {
	params, _ := s.Parameters.(map[string]any)
	field := func(key string) string {
		if v, ok := params[key].(string); ok {
			return v
		}
		if v, ok := params[key+".$"].(string); ok {
			if strings.HasPrefix(v, "States.Format('") {
				if end := strings.Index(v[len("States.Format('"):], "'"); end >= 0 {
					return v[len("States.Format('") : len("States.Format('")+end]
				}
			}
			return v
		}
		return ""
	}
	switch s.Resource {
	case "cws:invoke":
		call := strings.TrimSpace(strings.ToUpper(field("method")) + " " + field("path"))
		if svc := field("service"); svc != "" {
			call = svc + ": " + call
		}
		return call
	case "cws:publish":
		return "publish " + field("type")
	}
	return s.Resource
}

var opSymbols = map[string]string{"Equals": "=", "LessThan": "<", "GreaterThan": ">", "LessThanEquals": "≤", "GreaterThanEquals": "≥"}

// describeRule writes a choice rule as a condition: $.total ≥ 1000.
func describeRule(r *ChoiceRule) string {
	join := func(rules []*ChoiceRule, word string) string {
		parts := make([]string, len(rules))
		for i, c := range rules {
			parts[i] = describeRule(c)
		}
		return "(" + strings.Join(parts, " "+word+" ") + ")"
	}
	switch {
	case r.And != nil:
		return join(r.And, "and")
	case r.Or != nil:
		return join(r.Or, "or")
	case r.Not != nil:
		return "not " + describeRule(r.Not)
	}
	op := strings.TrimSuffix(r.Op, "Path")
	value := compact(r.Value)
	if strings.HasSuffix(r.Op, "Path") {
		value = fmt.Sprint(r.Value)
	}
	switch op {
	case "IsPresent", "IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp":
		what := strings.ToLower(strings.TrimPrefix(op, "Is"))
		if r.Value == false {
			return r.Variable + " is not " + what
		}
		return r.Variable + " is " + what
	case "StringMatches":
		return r.Variable + " matches " + value
	case "BooleanEquals":
		return r.Variable + " = " + value
	}
	for _, kind := range []string{"String", "Numeric", "Timestamp"} {
		if rel, ok := strings.CutPrefix(op, kind); ok {
			return r.Variable + " " + opSymbols[rel] + " " + value
		}
	}
	return r.Variable + " " + r.Op + " " + value
}

// Mermaid draws the machine as a Mermaid flowchart, for Markdown.
func Mermaid(m *Machine) string {
	g := buildGraph(m)
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	label := func(n *gnode) string {
		text := html.EscapeString(n.name)
		if n.detail != "" {
			text += "<br/><small>" + strings.ReplaceAll(html.EscapeString(n.detail), "\n", "<br/>") + "</small>"
		}
		return strings.ReplaceAll(text, `"`, "&quot;")
	}
	for _, n := range g.nodes {
		switch n.kind {
		case "start":
			b.WriteString("  start((start))\n")
		case "end":
			b.WriteString("  end_((end))\n")
		case TypeChoice:
			fmt.Fprintf(&b, "  %s{\"%s\"}\n", n.id, label(n))
		default:
			fmt.Fprintf(&b, "  %s[\"%s\"]\n", n.id, label(n))
		}
	}
	id := func(name string) string {
		n := g.nodes[g.index[name]]
		if n.kind == "end" {
			return "end_"
		}
		return n.id
	}
	for _, e := range g.edges {
		arrow := "-->"
		if e.dashed {
			arrow = "-.->"
		}
		if e.label != "" {
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", id(e.from), arrow, strings.ReplaceAll(html.EscapeString(e.label), `"`, "&quot;"), id(e.to))
		} else {
			fmt.Fprintf(&b, "  %s %s %s\n", id(e.from), arrow, id(e.to))
		}
	}
	b.WriteString("  classDef succeed fill:#e6f4ea,stroke:#1e8e3e\n  classDef fail fill:#fce8e6,stroke:#d93025\n")
	for _, n := range g.nodes {
		switch n.kind {
		case TypeSucceed:
			fmt.Fprintf(&b, "  class %s succeed\n", n.id)
		case TypeFail:
			fmt.Fprintf(&b, "  class %s fail\n", n.id)
		}
	}
	return b.String()
}

// The layout of the SVG.
const (
	charWidth   = 7.2
	lineHeight  = 16.0
	boxPadding  = 14.0
	rankGap     = 70.0
	nodeGap     = 36.0
	marginWidth = 30.0
)

type placed struct {
	*gnode
	rank       int
	order      float64
	x, y, w, h float64
	lines      []string
	dummy      bool // a point of an edge that crosses a rank
}

// route is an edge laid out: its ends and the points it passes.
type route struct {
	gedge
	from, to *placed
	via      []*placed
	back     bool
}

// SVG draws the machine as an SVG image: ranks from top to bottom, the
// states of a rank side by side, an edge that crosses ranks routed between
// the states it passes (a layered, Sugiyama-style layout).
func SVG(m *Machine) []byte {
	g := buildGraph(m)
	ps := make([]*placed, len(g.nodes))
	for i, n := range g.nodes {
		p := &placed{gnode: n}
		switch n.kind {
		case "start", "end":
			p.w, p.h = 40, 40
		default:
			p.lines = append([]string{n.name}, strings.Split(n.detail, "\n")...)
			if n.detail == "" {
				p.lines = p.lines[:1]
			}
			longest := 0
			for _, l := range p.lines {
				longest = max(longest, len([]rune(l)))
			}
			p.w = float64(longest)*charWidth + 2*boxPadding
			p.h = float64(len(p.lines))*lineHeight + boxPadding
			if n.kind == TypeChoice {
				p.w, p.h = p.w*1.3, p.h+24
			}
		}
		ps[i] = p
	}
	out := map[int][]gedge{}
	for _, e := range g.edges {
		out[g.index[e.from]] = append(out[g.index[e.from]], e)
	}
	// Ranks: the longest path from start along the edges that do not go
	// back (a depth-first search tells them).
	state := make([]int, len(ps)) // 0 new, 1 on the stack, 2 done
	back := map[[2]int]bool{}
	var order []int
	var dfs func(int)
	dfs = func(i int) {
		state[i] = 1
		for _, e := range out[i] {
			j := g.index[e.to]
			switch state[j] {
			case 0:
				dfs(j)
			case 1:
				back[[2]int{i, j}] = true
			}
		}
		state[i] = 2
		order = append(order, i)
	}
	dfs(0)
	for i := range ps {
		if state[i] == 0 {
			dfs(i)
		}
	}
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		for _, e := range out[i] {
			j := g.index[e.to]
			if !back[[2]int{i, j}] && ps[j].rank < ps[i].rank+1 {
				ps[j].rank = ps[i].rank + 1
			}
		}
	}
	end := ps[len(ps)-1]
	for _, p := range ps {
		if p.kind != "end" && p.rank >= end.rank {
			end.rank = p.rank + 1
		}
	}
	// Routes, with a point in each rank an edge crosses.
	ranks := map[int][]*placed{}
	maxRank := 0
	for k := len(order) - 1; k >= 0; k-- {
		p := ps[order[k]]
		ranks[p.rank] = append(ranks[p.rank], p)
		maxRank = max(maxRank, p.rank)
	}
	var routes []*route
	children := map[*placed][]*placed{}
	parents := map[*placed][]*placed{}
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		for _, e := range out[i] {
			j := g.index[e.to]
			r := &route{gedge: e, from: ps[i], to: ps[j], back: back[[2]int{i, j}] || ps[j].rank <= ps[i].rank}
			prev := ps[i]
			if !r.back {
				for rk := ps[i].rank + 1; rk < ps[j].rank; rk++ {
					d := &placed{gnode: &gnode{kind: "dummy"}, rank: rk, w: 16, dummy: true}
					ranks[rk] = append(ranks[rk], d)
					r.via = append(r.via, d)
					children[prev] = append(children[prev], d)
					parents[d] = append(parents[d], prev)
					prev = d
				}
				children[prev] = append(children[prev], ps[j])
				parents[ps[j]] = append(parents[ps[j]], prev)
			}
			routes = append(routes, r)
		}
	}
	// Order within ranks: discovery order, then barycenter sweeps down and
	// up.
	for _, r := range ranks {
		for i, p := range r {
			p.order = float64(i)
		}
	}
	reorder := func(r int, neighbours map[*placed][]*placed) {
		for _, p := range ranks[r] {
			sum, n := 0.0, 0
			for _, q := range neighbours[p] {
				sum, n = sum+q.order, n+1
			}
			if n > 0 {
				p.order = sum / float64(n)
			}
		}
		sort.SliceStable(ranks[r], func(a, b int) bool { return ranks[r][a].order < ranks[r][b].order })
		for i, p := range ranks[r] {
			p.order = float64(i)
		}
	}
	for sweep := 0; sweep < 4; sweep++ {
		for r := 1; r <= maxRank; r++ {
			reorder(r, parents)
		}
		for r := maxRank - 1; r >= 0; r-- {
			reorder(r, children)
		}
	}
	// Coordinates: each rank centred.
	width, y := 0.0, marginWidth
	for r := 0; r <= maxRank; r++ {
		row, tallest := 0.0, 0.0
		for _, p := range ranks[r] {
			row += p.w + nodeGap
			tallest = max(tallest, p.h)
		}
		width = max(width, row)
		for _, p := range ranks[r] {
			p.y = y + (tallest-p.h)/2
		}
		y += tallest + rankGap
	}
	height := y - rankGap + marginWidth
	width += 2*marginWidth + 80 // room for the loops on the right
	for r := 0; r <= maxRank; r++ {
		row := -nodeGap
		for _, p := range ranks[r] {
			row += p.w + nodeGap
		}
		x := (width - 80 - row) / 2
		for _, p := range ranks[r] {
			p.x = x
			x += p.w + nodeGap
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>` + "\n")
	if m.Comment != "" {
		fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(m.Comment))
	}
	for _, r := range routes {
		style := `stroke="#555" fill="none"`
		if r.dashed {
			style = `stroke="#d93025" stroke-dasharray="5,4" fill="none"`
		}
		var d strings.Builder
		var lx, ly float64
		if r.back {
			// A loop back: around the right of both boxes.
			x1, y1 := r.from.x+r.from.w, r.from.y+r.from.h/2
			x2, y2 := r.to.x+r.to.w, r.to.y+r.to.h/2
			side := max(x1, x2) + 60
			fmt.Fprintf(&d, "M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, side, y1, side, y2, x2, y2)
			lx, ly = side-10, (y1+y2)/2
		} else {
			pts := [][2]float64{{r.from.x + r.from.w/2, r.from.y + r.from.h}}
			for _, v := range r.via {
				pts = append(pts, [2]float64{v.x + v.w/2, v.y})
			}
			pts = append(pts, [2]float64{r.to.x + r.to.w/2, r.to.y})
			fmt.Fprintf(&d, "M%.1f,%.1f", pts[0][0], pts[0][1])
			for k := 1; k < len(pts); k++ {
				a, c := pts[k-1], pts[k]
				mid := (a[1] + c[1]) / 2
				fmt.Fprintf(&d, " C%.1f,%.1f %.1f,%.1f %.1f,%.1f", a[0], mid, c[0], mid, c[0], c[1])
			}
			lx, ly = pts[0][0]+0.6*(pts[1][0]-pts[0][0]), pts[0][1]+0.6*(pts[1][1]-pts[0][1])
		}
		fmt.Fprintf(&b, `<path d="%s" %s marker-end="url(#arrow)"/>`+"\n", d.String(), style)
		if r.label != "" {
			w := float64(len([]rune(r.label)))*charWidth*0.9 + 8
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="16" fill="white" opacity="0.9"/><text x="%.1f" y="%.1f" text-anchor="middle" fill="#333" font-size="11">%s</text>`+"\n",
				lx-w/2, ly-11, w, lx, ly+1, html.EscapeString(r.label))
		}
	}
	for _, p := range ps {
		fill, stroke := "#e8f0fe", "#1a73e8"
		switch p.kind {
		case TypeSucceed:
			fill, stroke = "#e6f4ea", "#1e8e3e"
		case TypeFail:
			fill, stroke = "#fce8e6", "#d93025"
		case TypeChoice:
			fill, stroke = "#fef7e0", "#f9ab00"
		case TypePass, TypeWait:
			fill, stroke = "#f1f3f4", "#5f6368"
		}
		switch p.kind {
		case "start", "end":
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="18" fill="#202124"/><text x="%.1f" y="%.1f" text-anchor="middle" fill="white" font-size="10">%s</text>`+"\n",
				p.x+p.w/2, p.y+p.h/2, p.x+p.w/2, p.y+p.h/2+4, p.kind)
			continue
		case TypeChoice:
			cx, cy := p.x+p.w/2, p.y+p.h/2
			fmt.Fprintf(&b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s" stroke="%s"/>`+"\n",
				cx, p.y, p.x+p.w, cy, cx, p.y+p.h, p.x, cy, fill, stroke)
		default:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s"/>`+"\n", p.x, p.y, p.w, p.h, fill, stroke)
		}
		top := p.y + (p.h-float64(len(p.lines))*lineHeight)/2 + 12
		for i, l := range p.lines {
			weight := ""
			if i == 0 {
				weight = ` font-weight="bold"`
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle"%s>%s</text>`+"\n", p.x+p.w/2, top+float64(i)*lineHeight, weight, html.EscapeString(l))
		}
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}
