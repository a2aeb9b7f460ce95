package cuda

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"
)

// Graph runs batches as a CUDA graph: one driver call launches all of a
// batch's kernels, where launching them one by one costs the host several
// microseconds each. The first Run builds and instantiates the graph;
// later Runs of a batch with the same kernels in the same order give new
// arguments and geometry to the nodes whose launches changed and launch it
// again (the same Batch run again, unchanged, is launched as it is); a
// batch with other kernels rebuilds it. Kernels that read their changing
// arguments from device memory (Position) make graphs that never change. Results equal running
// the batch's launches in order. Drivers without the graph API run them
// one by one. A Graph belongs to one sequence of work: it is not for
// concurrent use.
type Graph struct {
	d        *Device
	batch    *Batch   // the batch last run, and its length then: the same
	n        int      // batch again needs no comparison of its launches
	recorded []launch // the launches the instantiated graph holds
	nodes    []uintptr
	graph    uintptr
	exec     uintptr
	updated  int // nodes given new parameters by the last Run
}

// NewGraph returns an empty graph on d; Close it before the device.
func (d *Device) NewGraph() *Graph { return &Graph{d: d} }

// Run launches b as the graph, building or updating it first, without
// waiting for it.
func (g *Graph) Run(b *Batch) error {
	if b.err != nil {
		return b.err
	}
	if b.d != g.d {
		return errors.New("cuda: graph run with a batch of another device")
	}
	if len(b.ls) == 0 {
		return nil
	}
	return g.d.do(func() error {
		if err := g.d.prepareLocked(); err != nil {
			return err
		}
		if !g.d.drv.hasGraphs() {
			return g.d.runLocked(b.ls)
		}
		if g.exec != 0 && g.batch == b && g.n == len(b.ls) {
			g.updated = 0
			return g.d.drv.graphLaunch(g.exec)
		}
		var err error
		if changed, same := changedLaunches(g.recorded, b.ls); same && g.exec != 0 {
			err = g.updateLocked(b.ls, changed)
		} else {
			err = g.buildLocked(b.ls)
		}
		if err != nil {
			return errors.Join(err, g.destroyLocked())
		}
		g.recorded, g.batch, g.n = b.ls, b, len(b.ls)
		return g.d.drv.graphLaunch(g.exec)
	})
}

// changedLaunches returns the indexes of the launches of next that differ
// from prev in arguments or geometry, and whether the two run the same
// kernels in the same order (else the graph is rebuilt).
func changedLaunches(prev, next []launch) ([]int, bool) {
	if len(prev) != len(next) {
		return nil, false
	}
	var changed []int
	for i := range next {
		p, n := prev[i], next[i]
		if p.kernel != n.kernel {
			return nil, false
		}
		if p.geom != n.geom || !sameArgs(p.args, n.args) {
			changed = append(changed, i)
		}
	}
	return changed, true
}

// sameArgs reports whether two launches' packed argument values are equal.
func sameArgs(a, b *args) bool {
	if a.n != b.n {
		return false
	}
	as := unsafe.Slice((*byte)(unsafe.Pointer(&a.vals[0])), 8*a.n)
	bs := unsafe.Slice((*byte)(unsafe.Pointer(&b.vals[0])), 8*b.n)
	return bytes.Equal(as, bs)
}

func (g *Graph) buildLocked(ls []launch) error {
	if err := g.destroyLocked(); err != nil {
		return err
	}
	dr := g.d.drv
	graph, err := dr.graphCreate()
	if err != nil {
		return err
	}
	g.graph = graph
	g.nodes = make([]uintptr, len(ls))
	var prev uintptr
	for i, l := range ls {
		if prev, err = dr.graphAddKernelNode(graph, prev, g.d.mod.funcs[l.kernel], l); err != nil {
			return fmt.Errorf("cuda: graph node %d: %w", i, err)
		}
		g.nodes[i] = prev
	}
	g.exec, err = dr.graphInstantiate(graph)
	g.updated = len(ls)
	return err
}

func (g *Graph) updateLocked(ls []launch, changed []int) error {
	for _, i := range changed {
		if err := g.d.drv.graphExecSetParams(g.exec, g.nodes[i], g.d.mod.funcs[ls[i].kernel], ls[i]); err != nil {
			return fmt.Errorf("cuda: graph node %d: %w", i, err)
		}
	}
	g.updated = len(changed)
	return nil
}

// destroyLocked frees the instantiated and the built graph.
func (g *Graph) destroyLocked() error {
	var errs []error
	if g.exec != 0 {
		errs = append(errs, g.d.drv.graphExecDestroy(g.exec))
	}
	if g.graph != 0 {
		errs = append(errs, g.d.drv.graphDestroy(g.graph))
	}
	g.exec, g.graph, g.nodes, g.recorded, g.batch = 0, 0, nil, nil, nil
	return errors.Join(errs...)
}

// Close frees the graph's driver objects.
func (g *Graph) Close() error {
	if g.exec == 0 && g.graph == 0 {
		return nil
	}
	err := g.d.do(g.destroyLocked)
	if errors.Is(err, ErrClosed) {
		return fmt.Errorf("cuda: graph closed after its device: %w", err)
	}
	return err
}
