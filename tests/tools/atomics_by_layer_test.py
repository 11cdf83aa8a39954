"""tools/atomics_by_layer.py: which disassembled instructions are atomic read-modify-writes,
what a callgrind file says each address executed (not the calls' costs), and where an
object was loaded, from its functions' entries against its symbols."""
import os
import subprocess
import sys
import tempfile
import unittest

from tests import junit_main

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'tools'))
import atomics_by_layer  # noqa: E402

LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6'

# --dump-instr=yes --compress-pos=no --compress-strings=no: "address line cost"; after a
# calls= line, the call's cost (its callee's, not this function's).
PROFILE = """\
positions: instr line
events: Ir
ob=/bin/app
fl=vfs/walk.cc
fn=vfs::Walk()
0x1000 10 5
0x1004 11 5
calls=5 0x2000 20
0x1008 12 400
0x100c 13 5
fn=sim::AdaptiveMutex::lock()
0x2000 20 5
0x2004 20 5
"""


class AtomicsByLayerTest(unittest.TestCase):

    def test_lock_prefix_and_xchg_with_memory_are_atomic(self):
        self.assertTrue(atomics_by_layer.is_atomic('lock xadd %eax,(%rdi)'))
        self.assertTrue(atomics_by_layer.is_atomic('lock cmpxchg %edx,0x8(%rbx)'))
        self.assertTrue(atomics_by_layer.is_atomic('xchg   %eax,(%rdi)'))
        self.assertFalse(atomics_by_layer.is_atomic('xchg   %ax,%ax'))
        self.assertFalse(atomics_by_layer.is_atomic('mov    (%rdi),%eax'))

    def test_each_address_counts_its_own_executions_not_its_calls(self):
        with tempfile.NamedTemporaryFile('w', suffix='.out', delete=False) as f:
            f.write(PROFILE)
        try:
            executed, function_at, lowest = atomics_by_layer.parse(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(executed[('/bin/app', 0x1004)], 5)
        self.assertNotIn(('/bin/app', 0x1008), executed)  # The call's 400.
        self.assertEqual(executed[('/bin/app', 0x100c)], 5)
        self.assertEqual(function_at[('/bin/app', 0x2004)], 'sim::AdaptiveMutex::lock()')
        self.assertEqual(lowest['/bin/app'],
                         {'vfs::Walk()': 0x1000, 'sim::AdaptiveMutex::lock()': 0x2000})
        self.assertEqual(atomics_by_layer.layer_of('sim::AdaptiveMutex::lock()', '/bin/app'),
                         atomics_by_layer.LOCKS)
        self.assertEqual(atomics_by_layer.layer_of('vfs::Walk()', '/bin/app'), 'VFS')

    def test_a_function_is_named_without_its_parameters(self):
        short = atomics_by_layer.short_name
        self.assertEqual(short('vfs::Walk(std::span<int const, 18446744073709551615ul>) const'),
                         'vfs::Walk')
        self.assertEqual(short('vfs::(anonymous namespace)::Openat(int, char const*)'),
                         'vfs::(anonymous namespace)::Openat')
        self.assertEqual(short('vfs::Pread(int, void*) [clone .constprop.0]'), 'vfs::Pread')
        self.assertEqual(short('sim::Read(int)::{lambda(char const*)#1}::operator()'),
                         'sim::Read(int)::{lambda(char const*)#1}::operator')
        self.assertEqual(short('sim::f<sim::g(int)::{lambda(char)#1}>(int)'),
                         'sim::f<sim::g(int)::{lambda(char)#1}>')
        self.assertEqual(short('__memcpy_avx_unaligned_erms'), '__memcpy_avx_unaligned_erms')

    def test_the_load_base_is_where_functions_were_entered_against_their_symbols(self):
        out = subprocess.run(['nm', '-D', '--defined-only', LIBC], capture_output=True,
                             text=True, check=True).stdout
        symbols = {}
        for line in out.split('\n'):
            fields = line.split()
            if len(fields) == 3 and fields[1] == 'T':
                symbols[fields[2].split('@', 1)[0]] = int(fields[0], 16)
        base = 0x7f0000000000
        entered = {name: base + symbols[name] for name in ('malloc', 'free', 'memcpy')}
        entered['not_in_libc'] = base + 0x1234567  # Outvoted.
        self.assertEqual(atomics_by_layer.load_base(LIBC, entered), base)

    def test_an_objects_atomics_are_found_in_its_disassembly(self):
        offsets = atomics_by_layer.atomic_offsets(LIBC)
        self.assertGreater(len(offsets), 10)
        some = min(offsets)
        out = subprocess.run(['objdump', '-d', '-w', '--start-address=%#x' % some,
                              '--stop-address=%#x' % (some + 16), LIBC],
                             capture_output=True, text=True, check=True).stdout
        first = next(line for line in out.split('\n')
                     if line.strip().startswith('%x:' % some))
        self.assertTrue(atomics_by_layer.is_atomic(first.split('\t')[-1]), first)


if __name__ == '__main__':
    junit_main.main()
