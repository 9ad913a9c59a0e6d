/* A boot sector for the HVM boot-from-disk test (41-hvm-devices): the BIOS
 * (SeaBIOS) loads sector 0 of the first disk at 0x7c00 and jumps to it in
 * real mode.  It writes "XSAGENT-MBR-BOOT" to COM1's transmit register
 * (I/O port 0x3f8): the device model's emulated UART passes it to the VM's
 * serial (file:PATH in the test), whatever the line speed.  (Xen's own
 * debug port 0xe9 would not do: a release Xen drops what guests write
 * there, at XENLOG_G_DEBUG.)  Then it halts with interrupts off, which
 * Xen takes as the vCPU going down: with no vCPU left up the domain powers
 * off (hvm_vcpu_down).  No kernel: it shows that the BIOS booted the
 * guest's disk, nothing more. */
	.code16
	.text
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	cld
	movw	$msg, %si
	movw	$0x3f8, %dx
1:	lodsb
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	hlt
	jmp	2b
msg:	.asciz	"XSAGENT-MBR-BOOT\n"
	.org	510
	.byte	0x55, 0xaa
