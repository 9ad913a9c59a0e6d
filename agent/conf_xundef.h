/* Undefine the X_<KIND> macros after a .def table has been expanded. */
#undef X_STR
#undef X_PATH
#undef X_NAME
#undef X_UINT
#undef X_INT
#undef X_ENUM
#undef X_UUID
#undef X_MAC
#undef X_IFNAME
#undef X_SCRIPT
#undef X_VDEV
#undef X_BDF
