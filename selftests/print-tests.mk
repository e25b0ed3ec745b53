# Read together with the kvm selftests' Makefile (make -f Makefile -f this)
# to print the compiled tests it defines for the ARCH given, with OUTPUT/.
print-tests:
	@echo $(TEST_GEN_PROGS)
