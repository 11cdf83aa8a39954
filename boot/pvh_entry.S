// The image's first instructions: the PVH entry QEMU jumps to, and the way to 64-bit C++.
//
// QEMU's -kernel loads this ELF64 image and, seeing the XEN_ELFNOTE_PHYS32_ENTRY note,
// starts `pvh_start32` in 32-bit protected mode with paging off, flat segments, and %ebx
// pointing to a struct hvm_start_info (boot/pvh_start_info.h). The stub zeroes .bss,
// identity-maps the first 4 GiB with 2 MiB pages (the top GiB, where the LAPIC, IOAPIC,
// virtio-mmio slots and 32-bit PCI BARs live, uncached), enables PAE, long mode, paging and
// SSE (the compiler emits SSE), loads a 64-bit GDT and calls boot_main(start_info) on a
// 64 KiB stack. boot/paging.cc maps more (64-bit BARs) at run time.

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_LARGE 0x80

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

#define BOOT_STACK_SIZE 0x10000

// ---- The PVH note: namesz, descsz, type, "Xen", then the 32-bit entry's physical
// address. QEMU reads the descriptor of an ELF64 note as 8 bytes and aligns the name to the
// segment's p_align, so the note stays 4-byte aligned with a .quad descriptor.
        .section .note.Xen, "a", @note
        .balign 4
        .long 4
        .long 8
        .long XEN_ELFNOTE_PHYS32_ENTRY
        .asciz "Xen"
        .balign 4
        .quad pvh_start32

        .section .text.boot, "ax", @progbits
        .code32
        .globl pvh_start32
        .type pvh_start32, @function
pvh_start32:
        cli
        cld
        // %ebx (the start info) survives everything below: rep stos uses %edi, %ecx, %eax.
        movl $__bss_start, %edi
        movl $__bss_end, %ecx
        subl %edi, %ecx
        xorl %eax, %eax
        rep stosb

        // PML4[0] -> PDPT; PDPT[0..3] -> the four page directories, 1 GiB each.
        movl $boot_pdpt, %eax
        orl $(PTE_PRESENT | PTE_WRITE), %eax
        movl %eax, boot_pml4
        movl $boot_page_directories, %eax
        orl $(PTE_PRESENT | PTE_WRITE), %eax
        movl $boot_pdpt, %edi
        movl $4, %ecx
1:      movl %eax, (%edi)
        addl $0x1000, %eax
        addl $8, %edi
        loop 1b

        // 2048 2 MiB pages: entry i maps [i * 2 MiB, (i + 1) * 2 MiB). The upper half of each
        // 64-bit entry stays zero (addresses below 4 GiB).
        movl $boot_page_directories, %edi
        movl $(PTE_PRESENT | PTE_WRITE | PTE_LARGE), %eax
        xorl %ecx, %ecx
2:      movl %eax, %edx
        cmpl $(3 * 512), %ecx  // The fourth GiB is device memory.
        jb 3f
        orl $(PTE_PCD | PTE_PWT), %edx
3:      movl %edx, (%edi)
        addl $0x200000, %eax
        addl $8, %edi
        incl %ecx
        cmpl $2048, %ecx
        jb 2b

        movl %cr4, %eax
        orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
        movl %eax, %cr4
        movl $boot_pml4, %eax
        movl %eax, %cr3
        movl $MSR_EFER, %ecx
        rdmsr
        orl $EFER_LME, %eax
        wrmsr
        movl %cr0, %eax
        andl $~CR0_EM, %eax
        orl $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
        movl %eax, %cr0

        lgdt boot_gdt_pointer
        ljmp $KERNEL_CS, $start64
        .size pvh_start32, . - pvh_start32

        .code64
start64:
        movl $KERNEL_DS, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        xorl %eax, %eax
        movl %eax, %fs
        movl %eax, %gs
        fninit
        leaq boot_stack_top(%rip), %rsp
        xorl %ebp, %ebp
        movl %ebx, %edi  // boot_main(const hvm_start_info*), zero-extended.
        call boot_main
4:      cli
        hlt
        jmp 4b

// ---- Exception entry points: one stub per vector 0..31. Each leaves the same frame
// (vector, error code, then what the CPU pushed) and calls boot_exception(frame), which
// reports and ends the run. Vectors without a CPU error code push a zero in its place.
        .macro EXCEPTION_STUB vector
        .balign 16
boot_exception_stub_\vector:
        .if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
        .else
        pushq $0
        .endif
        pushq $\vector
        jmp boot_exception_common
        .endm

        .text
        .altmacro
        .set vector, 0
        .rept 32
        EXCEPTION_STUB %vector
        .set vector, vector + 1
        .endr

boot_exception_common:
        movq %rsp, %rdi
        andq $-16, %rsp
        call boot_exception
5:      cli
        hlt
        jmp 5b

        .macro EXCEPTION_STUB_ADDRESS vector
        .quad boot_exception_stub_\vector
        .endm

        .section .rodata
        .balign 8
        .globl boot_exception_stubs
boot_exception_stubs:
        .set vector, 0
        .rept 32
        EXCEPTION_STUB_ADDRESS %vector
        .set vector, vector + 1
        .endr

// ---- Interrupt entry points: one stub per vector 32..255, each pushing its vector and
// joining boot_interrupt_common, which saves what the interrupted code may hold in
// call-clobbered registers (the general ones and, with FXSAVE, x87/SSE: the compiler
// keeps values in XMM registers), calls boot_interrupt(vector) (boot/interrupts.cc) on a
// 16-byte aligned stack and returns with iretq. Interrupts run on the current stack (the
// image has one privilege level and -mno-red-zone) and with IF clear, so they never nest.
        .macro INTERRUPT_STUB vector
        .balign 8
boot_interrupt_stub_\vector:
        pushq $\vector
        jmp boot_interrupt_common
        .endm

        .text
        .set vector, 32
        .rept 224
        INTERRUPT_STUB %vector
        .set vector, vector + 1
        .endr

boot_interrupt_common:
        pushq %rax
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %rbp
        movq %rsp, %rbp
        andq $-16, %rsp
        subq $512, %rsp
        fxsave64 (%rsp)
        cld
        movq 80(%rbp), %rdi  // The vector, above the ten registers.
        call boot_interrupt
        fxrstor64 (%rsp)
        movq %rbp, %rsp
        popq %rbp
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rax
        addq $8, %rsp  // The vector.
        iretq

        .macro INTERRUPT_STUB_ADDRESS vector
        .quad boot_interrupt_stub_\vector
        .endm

        .section .rodata
        .balign 8
        .globl boot_interrupt_stubs
boot_interrupt_stubs:  // boot_interrupt_stubs[i] handles vector 32 + i.
        .set vector, 32
        .rept 224
        INTERRUPT_STUB_ADDRESS %vector
        .set vector, vector + 1
        .endr

// ---- The GDT: null, 64-bit kernel code, kernel data.
        .balign 16
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff
        .quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdt_pointer:
        .word boot_gdt_end - boot_gdt - 1
        .quad boot_gdt  // lgdt in 32-bit mode reads the low four bytes.

// ---- Page tables and the stack, zeroed above.
        .bss
        .balign 4096
        .globl boot_pml4
boot_pml4:
        .skip 4096
        .globl boot_pdpt
boot_pdpt:
        .skip 4096
        .globl boot_page_directories
boot_page_directories:
        .skip 4 * 4096
        .balign 16
boot_stack:
        .skip BOOT_STACK_SIZE
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
