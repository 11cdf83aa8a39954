// Workloads: what common programs do to a file system, as sequences of the
// calls fs_bench measures one by one, run over every back end with caches on.
// One iteration is one whole run of the program's work; items are the files
// and directories it handled. Each checks what it saw (entry counts, types,
// sizes) and fails the benchmark on a wrong answer. ls and find run once
// untimed first, so that every timed iteration finds the caches warm (with a
// validity of 1 s, entries of the FUSE back ends still expire during a run).
//
//   ls_l_1000    `ls -l` of d1000/: open, getdents64 until 0, close, then
//                lstat each of the 1 000 entries by path
//   untar_1000   tar x of 1 000 files into untar/: each created (O_EXCL),
//                4 KiB written, closed; they are removed untimed after the
//                iteration, so nothing is left over
//   find_tree    `find tree/`: open a directory, getdents64 until 0, close,
//                lstat each entry, descend into the directories; 10 110
//                entries (bench/share.h: the tree's shape)
//   git_status_tree
//                `git status`: lstat each of the tree's 10 000 files by path,
//                twice. Before each iteration, untimed, the back end drops its
//                caches (Backend::DropCaches), so the first pass is cold and
//                the second warm; where they cannot be dropped the benchmark's
//                label says so and both passes are warm after the first
//                iteration.
#ifndef BENCH_WORKLOADS_H_
#define BENCH_WORKLOADS_H_

#include "bench/backends.h"
#include "benchmark/benchmark.h"

namespace bench {

void LsL(benchmark::State& state, Kind kind);
void Untar(benchmark::State& state, Kind kind);
void FindTree(benchmark::State& state, Kind kind);
void GitStatusTree(benchmark::State& state, Kind kind);

}  // namespace bench

#endif  // BENCH_WORKLOADS_H_
