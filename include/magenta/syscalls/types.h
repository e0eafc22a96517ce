/*
 * <magenta/syscalls/types.h>: the types that only the prototypes of
 * <magenta/syscalls.h> need, declared but not defined (the calls that take
 * them are MX_ERR_NOT_SUPPORTED here, and never read them).
 */
#ifndef MAGENTA_SYSCALLS_TYPES_H_
#define MAGENTA_SYSCALLS_TYPES_H_

#ifdef __cplusplus
extern "C" {
#endif

/* PCI (Magenta's <magenta/syscalls/pci.h> defines them). */
typedef struct mx_pci_bar mx_pci_resource_t;
typedef struct mx_pcie_device_info mx_pcie_device_info_t;
typedef struct mx_pci_init_arg mx_pci_init_arg_t;
/* Resource records. */
typedef union mx_rrec mx_rrec_t;
/* The hypervisor (Magenta's <magenta/syscalls/hypervisor.h>). */
typedef struct mx_vcpu_create_args mx_vcpu_create_args_t;
typedef struct mx_guest_packet mx_guest_packet_t;

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_TYPES_H_ */
