package tfsegbeam

import (
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func sortStrings(s []string) { sort.Strings(s) }

// Build adds the evaluation of c to the pipeline's scope s:
//
//	match images, match masks (Beam filesystem List) -> key by pairing name
//	-> CoGroupByKey -> dataset.Pairing.Pair -> chunk files of pairs
//	   (chunks.go) -> Reshuffle -> read and evaluate in batches,
//	   writing the per-image rows to each bundle's part files
//	-> the parts' names grouped by shard -> sharded CSV and JSON Lines;
//	   dead letters, summary (combiner) and per-slice summaries (combiner
//	   per key) from the outcomes.
//
// It returns the outcomes (one per image) for callers that want more.
func Build(s beam.Scope, c Config) (beam.PCollection, error) {
	if err := c.Validate(); err != nil {
		return beam.PCollection{}, err
	}
	c = c.withDefaults()
	s = s.Scope("tfseg-eval")
	imp := beam.Impulse(s)
	images := beam.ParDo(s.Scope("match-images"), &matchFn{Glob: glob(c.Images), Images: true}, imp)
	imagesKV := beam.ParDo(s, &keyFn{Cfg: c}, images)
	masks := images
	if glob(c.Masks) != glob(c.Images) {
		masks = beam.ParDo(s.Scope("match-masks"), &matchFn{Glob: glob(c.Masks)}, imp)
	}
	masksKV := beam.ParDo(s, &keyFn{Cfg: c, Mask: true}, masks)
	grouped := beam.CoGroupByKey(s, imagesKV, masksKV)
	pairs, notes := beam.ParDo2(s.Scope("pair"), &pairFn{Cfg: c}, grouped)
	chunks := beam.ParDo(s.Scope("stage-pairs"), &stagePairsFn{TempDir: TempDir(c)}, pairs)
	chunks = beam.Reshuffle(s, chunks)
	outcomes, headers, parts := beam.ParDo3(s.Scope("evaluate"), &evalFn{Cfg: c, TempDir: TempDir(c)}, chunks)

	beam.ParDo0(s.Scope("write-rows"), &writeRowsFn{Out: c.Out, Shards: c.Shards}, beam.GroupByKey(s, parts), beam.SideInput{Input: headers})

	if c.SkipBad {
		dead := beam.GroupByKey(s, beam.ParDo(s, deadKey, beam.ParDo(s, isDead, outcomes)))
		beam.ParDo0(s.Scope("write-dead-letters"), &writeDeadFn{Out: c.Out}, dead)
	}

	sum := &summaryFn{K: c.Worst}
	summaries := beam.ParDo(s, globalKey, beam.Combine(s.Scope("summary"), sum, outcomes))
	if c.SliceBy != "" {
		perSlice := beam.CombinePerKey(s.Scope("slice-summaries"), sum, beam.ParDo(s, bySlice, outcomes))
		summaries = beam.Flatten(s, summaries, perSlice)
	}
	beam.ParDo0(s.Scope("write-summaries"), &writeSummaryFn{Out: c.Out, K: c.Worst, StartUnixNano: c.StartUnixNano},
		summaries, beam.SideInput{Input: headers}, beam.SideInput{Input: notes})
	return outcomes, nil
}
