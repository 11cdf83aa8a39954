"""tools/instructions_by_layer.py: each function's instructions go to its layer, and the
C/C++ runtime's to the layers of its callers, in proportion to what their calls cost."""
import os
import subprocess
import sys
import unittest

from tests import junit_main

SPLIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools',
                     'instructions_by_layer.py')

# callgrind_annotate --tree=caller --inclusive=no: callers ("<", what their calls cost,
# callees included), then the function ("*", its own instructions), a block each.
# 10 operations: vfs::read 100 own, calling driver::FuseClient::Read (300 own) and
# malloc for 40; libfuse's process_buf 200 own and malloc for 120; malloc 60 own, calling
# _int_malloc 100 own: the runtime's 160 go 1/4 to the VFS, 3/4 to libfuse.
PROFILE = """\
--------------------------------------------------------------------------------
1,000 (100.0%)  PROGRAM TOTALS

1,000 (100.0%)  < bench/request_instructions.cc:(anonymous namespace)::MeasuredRequests(char const*, int, void*, int) (10x) [/bin/request_instructions]
  100 (10.0%)  *  vfs/posix_fd.cc:vfs::read(int, void*, unsigned long) [/bin/request_instructions]

  300 (30.0%)  < vfs/posix_fd.cc:vfs::read(int, void*, unsigned long) (10x) [/bin/request_instructions]
  300 (30.0%)  *  driver/fuse_client.cc:driver::FuseClient::Read(unsigned long) [/bin/request_instructions]

   40 ( 4.0%)  < vfs/posix_fd.cc:vfs::read(int, void*, unsigned long) (10x) [/bin/request_instructions]
  120 (12.0%)  < ???:fuse_session_process_buf (10x) [/usr/lib/x86_64-linux-gnu/libfuse3.so.3.14.0]
   60 ( 6.0%)  *  ./malloc/./malloc/malloc.c:malloc [/usr/lib/x86_64-linux-gnu/libc.so.6]

  100 (10.0%)  < ./malloc/./malloc/malloc.c:malloc (10x) [/usr/lib/x86_64-linux-gnu/libc.so.6]
  100 (10.0%)  *  ./malloc/./malloc/malloc.c:_int_malloc [/usr/lib/x86_64-linux-gnu/libc.so.6]

  320 (32.0%)  < sim/fuse_server.cc:sim::FuseServer::Dispatch(fuse_in_header const&) (10x) [/bin/request_instructions]
  200 (20.0%)  *  ???:fuse_session_process_buf [/usr/lib/x86_64-linux-gnu/libfuse3.so.3.14.0]

  240 (24.0%)  *  sim/passthrough_fs_file.cc:sim::PassthroughOps::Read(fuse_req*) [/bin/request_instructions]
   60 ( 6.0%)  *  sim/split_device_queue.cc:unsigned long sim::SplitDeviceQueue::Pop(sim::DescriptorChain*) [/bin/request_instructions]
"""


class InstructionsByLayerTest(unittest.TestCase):

    def split(self, profile, count):
        out = subprocess.run([sys.executable, SPLIT, str(count)], input=profile,
                             capture_output=True, text=True, check=True).stdout
        rows = {}
        for line in out.splitlines()[1:]:
            name, figures = line[:26].strip(), line[26:].split()
            rows[name] = (int(figures[0]), figures[1], int(figures[2].strip('()')))
        return rows

    def test_each_layer_gets_its_own_and_its_share_of_the_runtime(self):
        rows = self.split(PROFILE, 10)
        # Of 1 060 instructions: the VFS 100 own and 40 of the runtime's 160, libfuse
        # 200 and 120.
        self.assertEqual(rows['VFS'], (14, '13%', 4))
        self.assertEqual(rows['libfuse'], (32, '30%', 12))
        self.assertEqual(rows['driver'], (30, '28%', 0))
        self.assertEqual(rows['passthrough handlers'], (24, '23%', 0))
        # A return type before the name does not hide its namespace.
        self.assertEqual(rows['device model'], (6, '6%', 0))
        self.assertNotIn('runtime', rows)
        self.assertEqual(sum(r[0] for r in rows.values()), 106)

    def test_a_runtime_function_nobody_is_seen_calling_stays_the_runtimes(self):
        rows = self.split(PROFILE + "   50 ( 5.0%)  *  ???:memcpy [/usr/lib/libc.so.6]\n", 10)
        self.assertEqual(rows['runtime'], (5, '5%', 5))


if __name__ == '__main__':
    junit_main.main()
